//! Responses: validate and score arbitrary JSON against a library or inline instrument. The
//! input is `instrument id or one-line definition`, a newline, then the response JSON (the
//! seeds come from crates/core/vectors). Never panics; scoring is deterministic; a report
//! aggregates and publishes without panicking.
#![no_main]

use chorus_core::{Instrument, Response, aggregate::InstrumentAggregate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, body) = text.split_once('\n').unwrap_or((text, ""));
    let inst = match chorus_core::library::get(head.trim()) {
        Some(i) => i,
        None => match Instrument::from_json(head) {
            Ok(i) => i,
            Err(_) => return,
        },
    };
    let Ok(response) = serde_json::from_str::<Response>(body) else {
        return;
    };
    let valid = chorus_core::validate_response(&inst, &response);
    if let Err(errors) = &valid {
        assert!(!errors.is_empty(), "an Err with no errors");
    }
    let report = chorus_core::score(&inst, &response);
    assert_eq!(
        report,
        chorus_core::score(&inst, &response),
        "scoring is not deterministic"
    );
    let mut agg = InstrumentAggregate::default();
    agg.add(&report);
    // The client's report is untrusted input too: aggregating it must be safe.
    if let Some(client) = &response.client_scores {
        agg.add(client);
    }
    let mut twice = agg.clone();
    twice.merge(&agg);
    serde_json::to_string(&agg.summary()).expect("a summary serialises");
    serde_json::to_string(&twice.summary()).expect("a summary serialises");
    serde_json::to_string(&report).expect("a score report serialises");
});
