//! Property tests: the core never panics on any input, aggregation is exactly mergeable, and
//! redaction is idempotent.
#![cfg(not(target_arch = "wasm32"))]

use chorus_core::{
    Instrument, Response, aggregate::InstrumentAggregate, library, redact::redact, score,
    validate_response,
};
use proptest::prelude::*;

/// Arbitrary JSON values, a few levels deep.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("fft"),
            Just("good"),
            Just("agree"),
            Just("q1"),
            Just("sure-sure")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_panic_on_any_instrument_json(v in json(), s in ".{0,200}") {
        let _ = Instrument::from_json(&v.to_string());
        let _ = Instrument::from_json(&s);
    }

    #[test]
    fn no_panic_on_any_response(answers in prop::collection::btree_map(".{0,12}", json(), 0..12), id in 0usize..15) {
        let inst = library::all().swap_remove(id % library::SOURCES.len());
        let body = serde_json::json!({"instrument": inst.id, "version": inst.version, "idempotency_key": "prop-key-0001", "answers": answers});
        if let Ok(r) = serde_json::from_value::<Response>(body) {
            let _ = validate_response(&inst, &r);
            let _ = score(&inst, &r);
        }
    }

    #[test]
    fn redaction_is_idempotent(s in "[0-9a-zA-Z @.+()/\\-:,]{0,80}", t in ".{0,60}") {
        for input in [s, t] {
            let once = redact(&input);
            prop_assert_eq!(&redact(&once.text).text, &once.text);
            for span in &once.spans {
                prop_assert!(span.start < span.end && span.end <= input.len());
            }
        }
    }

    #[test]
    fn aggregation_of_a_split_equals_the_whole(picks in prop::collection::vec((0usize..6, prop::collection::vec(0usize..6, 25)), 0..40), cut in 0usize..40) {
        let fft = library::get("fft").unwrap();
        let ist = library::get("i-statements").unwrap();
        let fft_ids = ["very_good", "good", "neither", "poor", "very_poor", "dont_know"];
        let agree = ["strongly_agree", "agree", "neither", "disagree", "strongly_disagree", "does_not_apply"];
        let reports: Vec<_> = picks.iter().enumerate().flat_map(|(n, (f, a))| {
            let r1: Response = serde_json::from_value(serde_json::json!({"instrument": "fft", "version": 1, "idempotency_key": format!("k-{n:08}"), "answers": {"fft": fft_ids[*f]}})).unwrap();
            let answers: serde_json::Map<_, _> = ist.items.iter().filter(|i| i.kind == chorus_core::ItemKind::Agreement).zip(a).map(|(i, v)| (i.id.clone(), serde_json::json!(agree[*v]))).collect();
            let r2: Response = serde_json::from_value(serde_json::json!({"instrument": "i-statements", "version": 1, "idempotency_key": format!("i-{n:08}"), "answers": answers})).unwrap();
            [score(&fft, &r1), score(&ist, &r2)]
        }).collect();
        let cut = cut.min(reports.len());
        let mut whole = InstrumentAggregate::default();
        reports.iter().for_each(|r| whole.add(r));
        let (mut a, mut b) = (InstrumentAggregate::default(), InstrumentAggregate::default());
        reports[..cut].iter().for_each(|r| a.add(r));
        reports[cut..].iter().for_each(|r| b.add(r));
        b.merge(&a);
        prop_assert_eq!(whole, b);
    }
}
