//! Instrument definitions: parse + validate arbitrary bytes, never panic; whatever is accepted
//! is valid, survives a JSON round trip unchanged, and can be answered and scored.
#![no_main]

use chorus_core::{Answer, Instrument, ItemKind, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(inst) = Instrument::from_json(text) else {
        return;
    };
    assert!(
        inst.validate().is_empty(),
        "from_json accepted an invalid definition"
    );
    let again = serde_json::to_string(&inst).expect("an instrument serialises");
    let back = Instrument::from_json(&again).expect("a serialised instrument parses again");
    assert_eq!(back, inst, "JSON round trip changed the instrument");

    // Answer every item with the first thing its kind allows (the fuzzer's bytes choose which
    // items), then validate and score: neither may panic, and the report serialises.
    let mut answers = std::collections::BTreeMap::new();
    for (n, item) in inst.items.iter().enumerate() {
        if data.get(n).is_some_and(|b| b & 1 == 1) || !item.kind.answerable() {
            continue;
        }
        let (min, max) = item.range();
        let answer = match item.kind {
            ItemKind::YesNo => Answer::Bool(true),
            ItemKind::Scale | ItemKind::Importance => {
                Answer::Number(if n % 2 == 0 { min } else { max })
            }
            ItemKind::FreeText => Answer::Text("ring 07700 900123".into()),
            ItemKind::MultipleChoice => {
                Answer::List(item.options.iter().take(2).map(|o| o.id.clone()).collect())
            }
            ItemKind::Agreement => Answer::Text("agree".into()),
            _ => match item.options.first() {
                Some(o) => Answer::Text(o.id.clone()),
                None => Answer::Text(String::new()),
            },
        };
        answers.insert(item.id.clone(), answer);
    }
    let response = Response {
        instrument: inst.id.clone(),
        version: inst.version,
        locale: chorus_core::Locale::Cy,
        idempotency_key: "fuzz-key-0001".into(),
        answers,
        client_scores: None,
    };
    let _ = chorus_core::validate_response(&inst, &response);
    let report = chorus_core::score(&inst, &response);
    serde_json::to_string(&report).expect("a score report serialises");
});
