//! The shared test vectors (`crates/core/vectors/*.json`), run natively by `cargo test` and
//! in wasm under Node by `cargo xtask test`: the same files (embedded with `include_str!`, so
//! no filesystem is needed), so browser and server agree by proof. The expected values were
//! written by an independent reference implementation of the brief's rules
//! (`vectors/reference.py`, exact fractions), not by this crate.
//!
//! Each case names the brief rule it traces to (`rule`); `rules_are_all_traced` checks that
//! every rule of the brief has cases.

use chorus_core::{
    ErrorCode, Instrument, Response, aggregate::InstrumentAggregate, library, redact::redact,
    score, validate_response,
};
use serde_json::{Value, json};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const SCORING: &str = include_str!("../vectors/scoring.json");
const SCORING_INLINE: &str = include_str!("../vectors/scoring-inline.json");
const VALIDATION: &str = include_str!("../vectors/validation.json");
const REDACTION: &str = include_str!("../vectors/redaction.json");
const AGGREGATION: &str = include_str!("../vectors/aggregation.json");
const AGGREGATION_IST: &str = include_str!("../vectors/aggregation-i-statements.json");
const AGGREGATION_MEASURES: &str = include_str!("../vectors/aggregation-measures.json");
const DEFINITIONS: &str = include_str!("../vectors/definitions.json");
const SPC: &str = include_str!("../vectors/spc.json");
const GAP: &str = include_str!("../vectors/gap.json");
const DEFINITIONS_AID: &str = include_str!("../vectors/definitions-aid.json");
const READABILITY: &str = include_str!("../vectors/readability.json");

const ALL: [&str; 12] = [
    SCORING,
    SCORING_INLINE,
    VALIDATION,
    REDACTION,
    AGGREGATION,
    AGGREGATION_IST,
    AGGREGATION_MEASURES,
    DEFINITIONS,
    SPC,
    GAP,
    DEFINITIONS_AID,
    READABILITY,
];

fn cases(src: &str) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(src).expect("vector file is JSON")
}

/// A library instrument by id, or an inline definition (which must be valid).
fn instrument(v: &Value) -> Instrument {
    match v {
        Value::String(id) => {
            library::get(id).unwrap_or_else(|| panic!("no library instrument {id}"))
        }
        def => Instrument::from_json(&def.to_string())
            .unwrap_or_else(|p| panic!("inline instrument is invalid: {p:?}")),
    }
}

/// A case's instrument at the version it names (`version`, or its response's) where the
/// library keeps that version, else the current one: vectors for an earlier version keep
/// testing it, and a vector naming a version that never was tests the refusal.
fn instrument_at(c: &Value) -> Instrument {
    let version = c["version"]
        .as_u64()
        .or(c["response"]["version"].as_u64())
        .and_then(|v| u32::try_from(v).ok());
    match (&c["instrument"], version) {
        (Value::String(id), Some(v)) => {
            library::get_version(id, v).unwrap_or_else(|| instrument(&c["instrument"]))
        }
        (i, _) => instrument(i),
    }
}

/// Every key in `expect` must be present in `actual` with an equal value (recursively), so a
/// vector states only what its rule decides. `null` expects the key to be absent or null.
fn subset(path: &str, expect: &Value, actual: &Value, failures: &mut Vec<String>) {
    match (expect, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let a = a.get(k).unwrap_or(&Value::Null);
                subset(&format!("{path}.{k}"), v, a, failures);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => failures.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn report(failures: Vec<String>, total: usize) {
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every case of the vector file `src` (at least `min` of them, or the file has lost its
/// cases) through `check`, which adds a line to the failures for each way a case is not met;
/// the test then fails listing them all, not only the first.
fn each_case(src: &str, min: usize, mut check: impl FnMut(&Value, &mut Vec<String>)) {
    let all = cases(src);
    assert!(all.len() >= min, "only {} vectors", all.len());
    let mut failures = Vec::new();
    for c in &all {
        check(c, &mut failures);
    }
    report(failures, all.len());
}

/// [`subset`], each failure named by `name`.
fn subset_named(name: &str, expect: &Value, actual: &Value, failures: &mut Vec<String>) {
    let mut f = Vec::new();
    subset("", expect, actual, &mut f);
    failures.extend(f.into_iter().map(|m| format!("{name}: {m}")));
}

/// The case's list `key` (of codes) must be `got`, exactly and in order.
fn exact_list(c: &Value, key: &str, got: Vec<Value>, failures: &mut Vec<String>) {
    let got = Value::Array(got);
    if got != c[key] {
        failures.push(format!("{}: expected {}, got {got}", c["name"], c[key]));
    }
}

fn scoring(src: &str) {
    each_case(src, 1, |c, failures| {
        let inst = instrument_at(c);
        let response: Response = serde_json::from_value(json!({
            "instrument": inst.id, "version": inst.version,
            "idempotency_key": "vector-key-0001", "answers": c["answers"],
        }))
        .unwrap();
        // Partial responses are scored too (a rule may say "not scored" when items are
        // missing); any other validation error means the vector itself is wrong.
        if let Err(e) = validate_response(&inst, &response)
            && e.iter().any(|e| e.code != ErrorCode::RequiredMissing)
        {
            failures.push(format!("{}: vector response is invalid: {e:?}", c["name"]));
            return;
        }
        let scored = score(&inst, &response);
        // The report survives JSON unchanged: what the widget sends is what the server
        // compares, bit for bit.
        let text = serde_json::to_string(&scored).unwrap();
        if serde_json::from_str::<chorus_core::ScoreReport>(&text).ok() != Some(scored.clone()) {
            failures.push(format!("{}: report does not round-trip", c["name"]));
        }
        subset_named(
            &format!("{} [{}]", c["name"], c["rule"]),
            &c["expect"],
            &serde_json::to_value(&scored).unwrap(),
            failures,
        );
    });
}

#[test]
fn scoring_vectors() {
    scoring(SCORING);
}

#[test]
fn scoring_inline_vectors() {
    scoring(SCORING_INLINE);
}

#[test]
fn validation_vectors() {
    each_case(VALIDATION, 1, |c, failures| {
        let inst = instrument_at(c);
        let response: Response = match serde_json::from_value(c["response"].clone()) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: response does not parse: {e}", c["name"]));
                return;
            }
        };
        let got: Vec<Value> = match validate_response(&inst, &response) {
            Ok(()) => vec![],
            Err(errors) => errors
                .iter()
                .map(|e| json!({"code": e.code, "item": e.item}))
                .collect(),
        };
        exact_list(c, "expect_errors", got, failures);
    });
}

#[test]
fn redaction_vectors() {
    each_case(REDACTION, 1, |c, failures| {
        let input = c["input"].as_str().unwrap();
        let r = redact(input);
        let kinds: Vec<Value> = r.spans.iter().map(|s| json!(s.kind)).collect();
        if r.text != c["expect_text"].as_str().unwrap()
            || Value::Array(kinds.clone()) != c["expect_kinds"]
        {
            failures.push(format!("{}: got {:?} {:?}", c["name"], r.text, kinds));
        }
        if let Some(spans) = c.get("expect_spans") {
            let got: Vec<Value> = r
                .spans
                .iter()
                .map(|s| json!([s.start, s.end, s.start_utf16, s.end_utf16]))
                .collect();
            if &Value::Array(got.clone()) != spans {
                failures.push(format!(
                    "{}: spans expected {spans}, got {}",
                    c["name"],
                    Value::Array(got)
                ));
            }
        }
        // Spans point at the original text, in bytes and in UTF-16 units.
        let utf16: Vec<u16> = input.encode_utf16().collect();
        for s in &r.spans {
            let bytes = &input[s.start..s.end];
            let via16 = String::from_utf16(&utf16[s.start_utf16..s.end_utf16]).unwrap();
            if bytes != via16 {
                failures.push(format!(
                    "{}: span offsets disagree: {bytes:?} vs {via16:?}",
                    c["name"]
                ));
            }
        }
        if redact(&r.text).text != r.text {
            failures.push(format!("{}: not idempotent", c["name"]));
        }
    });
}

/// Aggregate the reports whole, and as two parts merged: the brief needs them equal.
fn aggregate(
    reports: &[chorus_core::ScoreReport],
    name: &Value,
    failures: &mut Vec<String>,
) -> InstrumentAggregate {
    let mut whole = InstrumentAggregate::default();
    reports.iter().for_each(|r| whole.add(r));
    let cut = reports.len() / 3;
    let (mut a, mut b) = (
        InstrumentAggregate::default(),
        InstrumentAggregate::default(),
    );
    reports[..cut].iter().for_each(|r| a.add(r));
    reports[cut..].iter().for_each(|r| b.add(r));
    b.merge(&a);
    if b != whole {
        failures.push(format!("{name}: merged parts differ from the whole"));
    }
    whole
}

fn reports(inst: &Instrument, answers: &[Value]) -> Vec<chorus_core::ScoreReport> {
    answers
        .iter()
        .enumerate()
        .map(|(n, a)| {
            let r: Response = serde_json::from_value(json!({
                "instrument": inst.id, "version": inst.version,
                "idempotency_key": format!("vector-key-{n:04}"), "answers": a,
            }))
            .unwrap();
            score(inst, &r)
        })
        .collect()
}

#[test]
fn aggregation_vectors() {
    let fft = library::get("fft").unwrap();
    each_case(AGGREGATION, 1, |c, failures| {
        let answers: Vec<Value> = c["fft_answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| json!({"fft": a}))
            .collect();
        let agg = aggregate(&reports(&fft, &answers), &c["name"], failures);
        let got = serde_json::to_value(agg.fft_summary()).unwrap();
        subset_named(&c["name"].to_string(), &c["expect_fft"], &got, failures);
        if got["counts"] != c["expect_fft"]["counts"] {
            failures.push(format!(
                "{}: counts: expected {}, got {}",
                c["name"], c["expect_fft"]["counts"], got["counts"]
            ));
        }
    });
}

#[test]
fn i_statement_aggregation_vectors() {
    let ist = library::get("i-statements").unwrap();
    aggregates(
        AGGREGATION_IST,
        "expect_themes",
        |_| ist.clone(),
        |agg| serde_json::to_value(agg.theme_summaries()),
    );
}

#[test]
fn measure_aggregation_vectors() {
    aggregates(AGGREGATION_MEASURES, "expect_summary", instrument, |agg| {
        serde_json::to_value(agg.summary())
    });
}

/// Each case's `responses` of its instrument, aggregated (whole and in parts), and what
/// `summary` makes of the aggregate checked against the case's `expect`.
fn aggregates(
    src: &str,
    expect: &str,
    inst: impl Fn(&Value) -> Instrument,
    summary: impl Fn(&InstrumentAggregate) -> serde_json::Result<Value>,
) {
    each_case(src, 1, |c, failures| {
        let inst = inst(&c["instrument"]);
        let reports = reports(&inst, c["responses"].as_array().unwrap());
        let got = summary(&aggregate(&reports, &c["name"], failures)).unwrap();
        subset_named(&c["name"].to_string(), &c[expect], &got, failures);
    });
}

#[test]
fn definition_vectors() {
    each_case(DEFINITIONS, 1, |c, failures| {
        // A string is raw JSON text (possibly malformed); anything else is the definition.
        let text = match &c["definition"] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let got: Vec<Value> = match Instrument::from_json(&text) {
            Ok(_) => vec![],
            Err(problems) => problems
                .iter()
                .map(|p| json!({"path": p.path, "code": p.code}))
                .collect(),
        };
        exact_list(c, "expect_problems", got, failures);
    });
}

/// A decision aid's own parts (`definitions-aid.json`, by hand in `vectors/aid_reference.py`):
/// outcome rates, `about`, percentages in text, checked on the whole file by `aid::load`.
#[test]
fn aid_definition_vectors() {
    each_case(DEFINITIONS_AID, 40, |c, failures| {
        let got: Vec<Value> = chorus_core::aid::problems(&c["definition"].to_string())
            .iter()
            .map(|p| json!({"path": p.path, "code": p.code}))
            .collect();
        exact_list(c, "expect_problems", got, failures);
    });
}

/// Reading age (`readability.json`, from textstat by `vectors/readability_reference.py`):
/// words and sentences exactly, syllables and the Flesch–Kincaid grade within tolerances.
///
/// Why these tolerances: textstat counts syllables by pyphen's hyphenation dictionary, the
/// core by spelling rules, and the two disagree on some words either way (hyphenation is not
/// pronunciation: pyphen gives "area" one syllable, the rules give "lifestyle" three). Each
/// syllable moves the grade by 11.8 ÷ words, so a syllable total within 10% (at least 1)
/// allows about ±1.5 grades on the shortest texts; the grade tolerance is 1.5 per text.
/// Over all texts together the counters must agree to within 3% of syllables and 0.5 of a
/// grade on average, so a systematic bias (one counter always higher) cannot hide.
#[cfg(feature = "authoring")]
#[test]
fn reading_age_matches_the_reference_within_tolerance() {
    use chorus_core::readability::assess;
    let all = cases(READABILITY);
    assert!(all.len() >= 30, "only {} readability vectors", all.len());
    let mut failures = Vec::new();
    let (mut ours, mut theirs, mut grade_gap) = (0i64, 0i64, 0f64);
    for c in &all {
        let text = c["text"].as_str().unwrap();
        let r = assess(text);
        let n = |k: &str| c[k].as_i64().unwrap();
        if i64::from(r.counts.words) != n("words")
            || i64::from(r.counts.sentences) != n("sentences")
        {
            failures.push(format!(
                "{text:?}: {} words in {} sentences, expected {} in {}",
                r.counts.words,
                r.counts.sentences,
                n("words"),
                n("sentences")
            ));
            continue;
        }
        let (y, e) = (i64::from(r.counts.syllables), n("syllables"));
        ours += y;
        theirs += e;
        if (y - e).abs() > (e / 10).max(1) {
            failures.push(format!("{text:?}: {y} syllables, reference {e}"));
        }
        let g = r.grade.unwrap();
        let expect = c["grade"].as_f64().unwrap();
        grade_gap += g - expect;
        if (g - expect).abs() > 1.5 {
            failures.push(format!("{text:?}: grade {g:.2}, reference {expect}"));
        }
    }
    let mean_gap = grade_gap / all.len() as f64;
    if (ours - theirs).abs() * 100 > theirs * 3 || mean_gap.abs() > 0.5 {
        failures.push(format!(
            "overall: {ours} syllables against {theirs}, mean grade difference {mean_gap:.2}"
        ));
    }
    report(failures, all.len());
}

/// The floor, and traceability: every scoring rule of the brief, every response
/// error code and every definition problem code has at least one vector.
/// SPC charts (`spc.json`, from `vectors/spc_reference.py`): mean, limits and the near lines
/// equal to the bit, every point's flags and side, the variation and assurance verdicts.
#[test]
fn spc_charts_match_the_reference() {
    each_case(SPC, 40, |c, failures| {
        let name = c["name"].as_str().unwrap_or("?");
        let values: Vec<f64> = serde_json::from_value(c["values"].clone()).expect("values");
        let opts: chorus_core::spc::Options =
            serde_json::from_value(c["options"].clone()).expect("options");
        let got = chorus_core::spc::xmr(&values, &opts);
        match (&c["expect"], got) {
            (Value::Null, None) => {}
            (Value::Null, Some(_)) => failures.push(format!("{name}: expected no chart")),
            (_, None) => failures.push(format!("{name}: no chart")),
            (expect, Some(chart)) => {
                let actual = serde_json::to_value(&chart).expect("serialise");
                let before = failures.len();
                subset(name, expect, &actual, failures);
                // And nothing more in the chart than the reference knows of.
                if failures.len() == before
                    && actual.as_object().map(|o| o.len()) != expect.as_object().map(|o| o.len())
                {
                    failures.push(format!("{name}: fields differ from the reference's"));
                }
            }
        }
    });
}

/// Experience gaps between groups (`gap.json`, from `vectors/gap_reference.py`): counts,
/// figures, differences and their intervals as published, verdicts, shares and
/// representation, with primary and secondary suppression.
#[test]
fn gap_tables_match_the_reference() {
    use chorus_core::aggregate::{MeanAcc, Proportion};
    use chorus_core::gap::{Group, mean_gaps, proportion_gaps};
    use chorus_core::num::Ratio;
    let mean_of = |v: &Value| {
        let mut m = MeanAcc::default();
        for pair in v.as_array().expect("values") {
            m.add_ratio(Ratio::new(
                pair[0].as_i64().expect("num"),
                pair[1].as_i64().expect("den"),
            ));
        }
        m
    };
    each_case(GAP, 50, |c, failures| {
        let name = c["name"].as_str().unwrap_or("?");
        fn group<A>(g: &Value, acc: A) -> Group<A> {
            Group {
                label: g["label"].as_str().unwrap_or_default().to_string(),
                stated: g["stated"].as_bool().unwrap_or(true),
                reference_tenths: g["reference_tenths"].as_u64().map(|r| r as u32),
                acc,
            }
        }
        let actual = if c["kind"] == "mean" {
            let groups: Vec<Group<MeanAcc>> = c["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| group(g, mean_of(&g["values"])))
                .collect();
            serde_json::to_value(mean_gaps(&groups, &mean_of(&c["all"]["values"])))
        } else {
            let prop = |v: &Value| Proportion {
                k: v["k"].as_u64().unwrap(),
                n: v["n"].as_u64().unwrap(),
            };
            let groups: Vec<Group<Proportion>> = c["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| group(g, prop(g)))
                .collect();
            serde_json::to_value(proportion_gaps(&groups, &prop(&c["all"])))
        }
        .expect("serialise");
        let expect = &c["expect"];
        subset(
            &format!("{name}.total"),
            &expect["total"],
            &actual["total"],
            failures,
        );
        let (e, a) = (
            expect["rows"].as_array().unwrap(),
            actual["rows"].as_array().unwrap(),
        );
        if e.len() != a.len() {
            failures.push(format!("{name}: {} rows, expected {}", a.len(), e.len()));
            return;
        }
        for (i, (e, a)) in e.iter().zip(a).enumerate() {
            subset(&format!("{name}.rows[{i}]"), e, a, failures);
        }
    });
}

#[test]
fn rules_are_all_traced() {
    let every: Vec<Value> = ALL.iter().flat_map(|s| cases(s)).collect();
    assert!(every.len() >= 150, "only {} vectors", every.len());
    let rules: Vec<String> = every
        .iter()
        .map(|c| c["rule"].as_str().unwrap_or("").to_lowercase())
        .collect();
    for rule in [
        "rounding",
        "fft categor",
        "fft %",
        "i statement score",
        "i statement theme",
        "does not apply",
        "i statement: mean",
        "sure",
        "collaborate",
        "sdm-q-9",
        "values lean",
        "knowledge",
        "suppression",
        "wilson",
        "redaction",
        "response validation",
        "definition validation",
        "definition validation: decision aid",
        "reading age: flesch-kincaid grade",
        "spc: xmr",
        "spc: too few",
        "equality gap: fft",
        "equality gap: theme mean",
        "equality gap: representation",
    ] {
        assert!(
            rules.iter().any(|r| r.contains(rule)),
            "no vector traces to {rule:?}"
        );
    }
    let text = ALL.join("");
    for code in [
        "wrong_instrument",
        "wrong_version",
        "invalid_idempotency_key",
        "unknown_item",
        "required_missing",
        "wrong_type",
        "invalid_option",
        "duplicate_option",
        "text_too_long",
        "out_of_range",
        "not_answerable",
    ] {
        assert!(
            text.contains(&format!("\"code\": \"{code}\"")),
            "no vector for {code}"
        );
    }
    for code in [
        "invalid_json",
        "missing_id",
        "invalid_version",
        "missing_translation",
        "empty_items",
        "duplicate_id",
        "unknown_theme",
        "not_answerable",
        "unknown_role",
        "role_kind_mismatch",
        "empty_options",
        "missing_answer",
        "unknown_option",
        "missing_explanation",
        "invalid_range",
        "invalid_stance",
        "missing_max_length",
        "invalid_max_length",
        "invalid_option_count",
        "empty_rows",
        "cell_count",
        "scoring_mismatch",
        "missing_theme",
        "theme_too_large",
        "too_many_themes",
        "invalid_rate",
        "missing_rate",
        "mixed_denominators",
        "mixed_time_frames",
        "percentage_in_text",
        "rate_above_denominator",
        "missing_metadata",
        "invalid_date",
        "missing_link",
        "unknown_reference",
    ] {
        assert!(
            DEFINITIONS.contains(&format!("\"code\": \"{code}\""))
                || DEFINITIONS_AID.contains(&format!("\"code\": \"{code}\"")),
            "no definition vector for {code}"
        );
    }
    for kind in [
        "nhs_number",
        "phone_number",
        "email_address",
        "postcode",
        "date_of_birth",
        "\"date\"",
    ] {
        assert!(text.contains(kind), "no redaction vector for {kind}");
    }
}
