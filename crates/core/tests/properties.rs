//! Property tests: the core never panics on any input, aggregation is exactly mergeable, and
//! redaction is idempotent. Native only (proptest does not target wasm); the shared vectors
//! cover wasm.
#![cfg(not(target_arch = "wasm32"))]

use chorus_core::{
    Instrument, ItemKind, Response, ScoreReport, aggregate::InstrumentAggregate, library,
    redact::redact, score, validate_response,
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Arbitrary JSON values, a few levels deep, with strings the core cares about mixed in so
/// that some of them reach past the parser into validation and scoring.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-20i64..20).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        prop::sample::select(vec![
            "fft",
            "good",
            "agree",
            "does_not_apply",
            "q1",
            "sure-sure",
            "yes",
            "surgery",
            "scale",
            "agreement",
            "i_statements",
            "decision_aid",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replace the `n`th node (pre-order, modulo the node count) of `v` with `with`.
fn replace_node(v: &mut Value, n: usize, with: Value) {
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }
    fn walk(v: &mut Value, n: &mut usize, with: &mut Option<Value>) {
        if *n == 0 {
            if let Some(w) = with.take() {
                *v = w;
            }
            return;
        }
        *n -= 1;
        match v {
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, n, with)),
            Value::Object(o) => o.values_mut().for_each(|x| walk(x, n, with)),
            _ => {}
        }
    }
    let mut n = n % count(v);
    walk(v, &mut n, &mut Some(with));
}

/// A random answer of the right shape for each item, so responses are valid and score.
fn answer_for(item: &chorus_core::Item, pick: usize) -> Option<Value> {
    let agreement = chorus_core::instrument::AGREEMENT_ANSWERS.map(|(id, _)| id);
    if pick % 7 == 6 && !item.required {
        return None; // sometimes unanswered
    }
    Some(match item.kind {
        ItemKind::SingleChoice | ItemKind::Knowledge => {
            json!(item.options[pick % item.options.len()].id)
        }
        ItemKind::MultipleChoice => json!([item.options[pick % item.options.len()].id]),
        ItemKind::Agreement => json!(agreement[pick % 6]),
        ItemKind::Scale | ItemKind::Importance => {
            let (lo, hi) = item.range();
            json!(lo + (pick as i64 % (hi - lo + 1)))
        }
        ItemKind::YesNo => json!(!pick.is_multiple_of(3)),
        ItemKind::FreeText => json!("Kind staff. Call 07700 900123."),
        ItemKind::OptionGrid | ItemKind::Info | ItemKind::Outcome => return None,
    })
}

proptest! {
    // 512 cases by default; PROPTEST_CASES raises it for a long soak.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_panic_on_any_instrument_json(v in json_value(), s in ".{0,200}") {
        let _ = Instrument::from_json(&v.to_string());
        let _ = Instrument::from_json(&s);
    }

    /// Definitions near the real ones (one node of a shipped instrument replaced by anything)
    /// get past the parser and reach every check; scoring an unvalidated definition must not
    /// panic either.
    #[test]
    fn no_panic_on_a_mutated_definition(id in 0usize..64, node in any::<usize>(), with in json_value(), answers in prop::collection::btree_map("[a-z0-9-]{1,16}", json_value(), 0..8)) {
        let (_, src) = library::SOURCES[id % library::SOURCES.len()];
        let mut v: Value = serde_json::from_str(src).unwrap();
        replace_node(&mut v, node, with);
        let _ = Instrument::from_json(&v.to_string());
        if let Ok(inst) = serde_json::from_value::<Instrument>(v) {
            let _ = inst.validate();
            let body = json!({"instrument": inst.id, "version": inst.version, "idempotency_key": "prop-key-0001", "answers": answers});
            if let Ok(r) = serde_json::from_value::<Response>(body) {
                let _ = validate_response(&inst, &r);
                let _ = score(&inst, &r);
            }
        }
    }

    #[test]
    fn no_panic_on_any_response(answers in prop::collection::btree_map(".{0,12}", json_value(), 0..12), id in 0usize..64) {
        let inst = library::all().swap_remove(id % library::SOURCES.len());
        let body = json!({"instrument": inst.id, "version": inst.version, "idempotency_key": "prop-key-0001", "answers": answers});
        if let Ok(r) = serde_json::from_value::<Response>(body) {
            let _ = validate_response(&inst, &r);
            let _ = score(&inst, &r);
        }
    }

    /// Whole response bodies of any shape, including real item ids with any value.
    #[test]
    fn no_panic_on_any_response_body(v in json_value(), id in 0usize..64, values in prop::collection::vec(json_value(), 0..30)) {
        let inst = library::all().swap_remove(id % library::SOURCES.len());
        let _ = serde_json::from_value::<Response>(v);
        let answers: serde_json::Map<String, Value> = inst.items.iter().zip(values).map(|(i, v)| (i.id.clone(), v)).collect();
        let body = json!({"instrument": inst.id, "version": inst.version, "idempotency_key": "prop-key-0001", "answers": answers});
        if let Ok(r) = serde_json::from_value::<Response>(body) {
            let _ = validate_response(&inst, &r);
            let _ = score(&inst, &r);
        }
    }

    #[test]
    fn redaction_is_idempotent(
        s in "[0-9a-zA-Z @.+()/\\-:,]{0,80}",
        t in ".{0,60}",
        parts in prop::collection::vec(prop::sample::select(vec![
            "943 476 5919", "4010232137", "07700 900123", "+44 (0)20 7946 0018", "jo@example.org",
            "SW1A 1AA", "cf10 3nq", "born ", "DOB ", "3/4/1980", "12th March 1954", "2024-11-02",
            "[NHS number]", "[date of birth]", "[phone number]", "[postcode]", "[date]", "[email address]",
            " ", "-", "0", "7", "@", ".", "é", "😀", "x", "Sept", "Mawrth", "1af", "(", ")",
            // Issue 22: what normalisation and the wider gaps let through.
            "\u{200b}", "\u{a0}", "\u{2011}", "\u{2013}", "\u{ff19}", "\u{669}", "\u{1d7d7}", "\u{301}",
            "/", "  ", " - ", "NHS", "nhs", "'54", "\u{2019}", "12-Mar-", "o Fawrth ", "zoë@example.com",
            "renée.smith@", "07700.900.123", "12 / 03 / 1954",
        ]), 0..16),
    ) {
        let glued: String = parts.concat();
        for input in [s, t, glued] {
            let once = redact(&input);
            prop_assert_eq!(&redact(&once.text).text, &once.text, "input {:?}", input);
            let mut last = 0;
            for span in &once.spans {
                prop_assert!(last <= span.start && span.start < span.end && span.end <= input.len());
                prop_assert!(input.is_char_boundary(span.start) && input.is_char_boundary(span.end));
                prop_assert!(span.start_utf16 < span.end_utf16);
                last = span.end;
            }
        }
    }

    /// Aggregating responses whole equals aggregating any split into parts and merging the
    /// parts in any order, for every shipped instrument at once.
    #[test]
    fn aggregation_of_a_split_equals_the_whole(
        picks in prop::collection::vec((0usize..64, prop::collection::vec(0usize..1000, 30)), 0..60),
        cuts in prop::collection::vec(0usize..60, 0..4),
        reverse in any::<bool>(),
    ) {
        let lib = library::all();
        let reports: Vec<ScoreReport> = picks.iter().enumerate().map(|(n, (which, p))| {
            let inst = &lib[which % lib.len()];
            let answers: serde_json::Map<String, Value> = inst.items.iter().zip(p)
                .filter_map(|(i, p)| answer_for(i, *p).map(|a| (i.id.clone(), a)))
                .collect();
            let r: Response = serde_json::from_value(json!({"instrument": inst.id, "version": inst.version, "idempotency_key": format!("k-{n:08}"), "answers": answers})).unwrap();
            score(inst, &r)
        }).collect();
        let mut whole = InstrumentAggregate::default();
        reports.iter().for_each(|r| whole.add(r));

        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (reports.len() + 1)).collect();
        bounds.push(0);
        bounds.push(reports.len());
        bounds.sort_unstable();
        let mut parts: Vec<InstrumentAggregate> = bounds.windows(2).map(|w| {
            let mut a = InstrumentAggregate::default();
            reports[w[0]..w[1]].iter().for_each(|r| a.add(r));
            a
        }).collect();
        if reverse {
            parts.reverse();
        }
        let mut merged = InstrumentAggregate::default();
        parts.iter().for_each(|p| merged.merge(p));
        prop_assert_eq!(&whole, &merged);
        prop_assert_eq!(whole.summary(), merged.summary());
        // And the aggregate survives storage as JSON exactly.
        let back: InstrumentAggregate = serde_json::from_str(&serde_json::to_string(&whole).unwrap()).unwrap();
        prop_assert_eq!(back, whole);
    }

    /// Every valid generated response validates, and its score report round-trips through
    /// JSON bit for bit (the server compares client and server reports this way).
    #[test]
    fn valid_responses_validate_and_reports_round_trip(which in 0usize..64, p in prop::collection::vec(0usize..1000, 30)) {
        let lib = library::all();
        let inst = &lib[which % lib.len()];
        let answers: serde_json::Map<String, Value> = inst.items.iter().zip(&p)
            .filter_map(|(i, p)| answer_for(i, *p).map(|a| (i.id.clone(), a)))
            .collect();
        let r: Response = serde_json::from_value(json!({"instrument": inst.id, "version": inst.version, "idempotency_key": "prop-key-0001", "answers": answers})).unwrap();
        prop_assert_eq!(validate_response(inst, &r), Ok(()));
        let s = score(inst, &r);
        let back: ScoreReport = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        prop_assert_eq!(back, s);
    }

    /// SPC charts never panic, have one set of flags per point, and a point beyond a limit is
    /// always special cause; limits are symmetric about the mean.
    #[test]
    fn spc_charts_are_well_formed(values in prop::collection::vec(prop_oneof![-1e6f64..1e6, 0f64..100.0, Just(f64::NAN), Just(50.0)], 0..60), baseline in 0usize..70, shift in 0usize..10, trend in 0usize..10) {
        let opts = chorus_core::spc::Options { baseline, shift, trend, ..Default::default() };
        if let Some(c) = chorus_core::spc::xmr(&values, &opts) {
            prop_assert_eq!(c.points.len(), values.len());
            prop_assert!(c.upper >= c.mean && c.mean >= c.lower);
            for (v, p) in values.iter().zip(&c.points) {
                if *v > c.upper || *v < c.lower {
                    prop_assert!(p.astronomical && p.special());
                }
                prop_assert_eq!(p.special(), p.high.is_some());
            }
        }
    }
}

/// Every assignment of the cells a reader cannot see (`None`) that fits the parts' sum
/// (`whole`), written into `cells`; `visit` is called with each one.
fn each_fill(cells: &mut Vec<u64>, hidden: &[usize], left: u64, visit: &mut dyn FnMut(&[u64])) {
    match hidden {
        [] => {
            if left == 0 {
                visit(cells)
            }
        }
        [last] => {
            cells[*last] = left;
            visit(cells);
        }
        [first, rest @ ..] => {
            for v in 0..=left {
                cells[*first] = v;
                each_fill(cells, rest, left - v, visit);
            }
        }
    }
}

/// A months (or services) table of FFT rows, attacked by brute force: the reader knows the
/// page's total responses, positives and negatives, each row's shown count and, where a
/// row's percentage is shown with its count, that row's positives or negatives. Every way
/// of filling in the hidden numbers that fits (whole numbers, positives + negatives within
/// the row's count) is tried; a hidden count of 1 to 4 that takes one value in all of them
/// would be disclosed. `suppress::fft_rows` must leave none.
#[test]
fn no_month_or_service_row_can_be_worked_out_from_the_others() {
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 1000,
        ..Default::default()
    });
    let rows = prop::collection::vec(prop::array::uniform6(0u64..5), 2..4);
    // The case that found the bounds leak: row 0's five negatives pinned its positives at 0.
    runner
        .run(
            &Just(vec![
                [0, 0, 0, 1, 4, 0],
                [0, 1, 0, 0, 1, 3],
                [2, 3, 0, 0, 0, 0],
            ]),
            |rows| attack(&rows),
        )
        .unwrap();
    runner.run(&rows, |rows| attack(&rows)).unwrap();
}

/// The brute-force attack on one table of FFT rows (see the test above).
fn attack(rows: &[[u64; 6]]) -> Result<(), proptest::test_runner::TestCaseError> {
    let aggs: Vec<InstrumentAggregate> = rows
        .iter()
        .map(|c| InstrumentAggregate {
            fft: *c,
            responses: c.iter().sum(),
            ..Default::default()
        })
        .collect();
    let refs: Vec<&InstrumentAggregate> = aggs.iter().collect();
    let shown = chorus_core::suppress::fft_rows(&refs);
    let n: Vec<u64> = aggs.iter().map(|a| a.fft_total()).collect();
    let k: Vec<u64> = aggs.iter().map(|a| a.fft_positive().k).collect();
    let j: Vec<u64> = aggs.iter().map(|a| a.fft_negative().k).collect();
    let hn: Vec<usize> = (0..n.len())
        .filter(|&i| shown[i].total.value().is_none())
        .collect();
    let hk: Vec<usize> = (0..n.len())
        .filter(|&i| shown[i].positive.value().is_none())
        .collect();
    let hj: Vec<usize> = (0..n.len())
        .filter(|&i| shown[i].negative.value().is_none())
        .collect();
    // What the hidden cells share: the whole (known to the reader) less the shown.
    let left = |v: &[u64], h: &[usize]| h.iter().map(|&i| v[i]).sum::<u64>();
    // Every value each hidden cell takes over all consistent fillings.
    let mut seen_n: Vec<std::collections::BTreeSet<u64>> = vec![Default::default(); n.len()];
    let mut seen_k = seen_n.clone();
    let mut seen_j = seen_n.clone();
    let (mut fn_, mut fk, fj) = (n.clone(), k.clone(), j.clone());
    each_fill(&mut fn_, &hn, left(&n, &hn), &mut |nn| {
        each_fill(&mut fk, &hk, left(&k, &hk), &mut |kk| {
            each_fill(&mut fj.clone(), &hj, left(&j, &hj), &mut |jj| {
                if (0..nn.len()).all(|i| kk[i] + jj[i] <= nn[i]) {
                    for &i in &hn {
                        seen_n[i].insert(nn[i]);
                    }
                    for &i in &hk {
                        seen_k[i].insert(kk[i]);
                    }
                    for &i in &hj {
                        seen_j[i].insert(jj[i]);
                    }
                }
            });
        });
    });
    for (name, vals, hidden, seen) in [
        ("count", &n, &hn, &seen_n),
        ("positives", &k, &hk, &seen_k),
        ("negatives", &j, &hj, &seen_j),
    ] {
        for &i in hidden {
            prop_assert!(
                !((1..5).contains(&vals[i]) && seen[i].len() == 1),
                "row {i}'s hidden {name} ({}) is disclosed: rows {rows:?}",
                vals[i]
            );
        }
    }
    Ok(())
}
