//! The shared test vectors (`crates/core/vectors/*.json`), run natively by `cargo test` and
//! in wasm under Node by `cargo xtask test`: the same files, so browser and server agree by
//! proof. The expected values were written by an independent reference implementation of the
//! brief's rules, not by this crate.

use chorus_core::{
    ErrorCode, Instrument, Response, aggregate::InstrumentAggregate, library, redact::redact,
    score, validate_response,
};
use serde_json::{Value, json};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const SCORING: &str = include_str!("../vectors/scoring.json");
const VALIDATION: &str = include_str!("../vectors/validation.json");
const REDACTION: &str = include_str!("../vectors/redaction.json");
const AGGREGATION: &str = include_str!("../vectors/aggregation.json");
const AGGREGATION_IST: &str = include_str!("../vectors/aggregation-i-statements.json");
const DEFINITIONS: &str = include_str!("../vectors/definitions.json");

fn cases(src: &str) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(src).expect("vector file is JSON")
}

fn instrument(id: &str) -> Instrument {
    library::get(id).unwrap_or_else(|| panic!("no library instrument {id}"))
}

/// Every key in `expect` must be present in `actual` with an equal value (recursively), so a
/// vector states only what its rule decides.
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

#[test]
fn scoring_vectors() {
    let mut failures = Vec::new();
    let all = cases(SCORING);
    for c in &all {
        let inst = instrument(c["instrument"].as_str().unwrap());
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
            continue;
        }
        let report = serde_json::to_value(score(&inst, &response)).unwrap();
        let mut f = Vec::new();
        subset("", &c["expect"], &report, &mut f);
        failures.extend(
            f.into_iter()
                .map(|m| format!("{} [{}]: {m}", c["name"], c["rule"])),
        );
    }
    assert!(all.len() >= 150, "only {} scoring vectors", all.len());
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn validation_vectors() {
    let mut failures = Vec::new();
    for c in &cases(VALIDATION) {
        let inst = instrument(c["instrument"].as_str().unwrap());
        let response: Response = serde_json::from_value(c["response"].clone()).unwrap();
        let got: Vec<Value> = match validate_response(&inst, &response) {
            Ok(()) => vec![],
            Err(errors) => errors
                .iter()
                .map(|e| json!({"code": e.code, "item": e.item}))
                .collect(),
        };
        if Value::Array(got.clone()) != c["expect_errors"] {
            failures.push(format!(
                "{}: expected {}, got {}",
                c["name"],
                c["expect_errors"],
                Value::Array(got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn redaction_vectors() {
    let mut failures = Vec::new();
    for c in &cases(REDACTION) {
        let input = c["input"].as_str().unwrap();
        let r = redact(input);
        let kinds: Vec<Value> = r.spans.iter().map(|s| json!(s.kind)).collect();
        if r.text != c["expect_text"].as_str().unwrap()
            || Value::Array(kinds.clone()) != c["expect_kinds"]
        {
            failures.push(format!("{}: got {:?} {:?}", c["name"], r.text, kinds));
        }
        // Spans point at the original text, in bytes and in UTF-16 units.
        for s in &r.spans {
            let bytes = &input[s.start..s.end];
            let utf16: Vec<u16> = input.encode_utf16().collect();
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
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn aggregation_vectors() {
    let fft = instrument("fft");
    let mut failures = Vec::new();
    for c in &cases(AGGREGATION) {
        let mut agg = InstrumentAggregate::default();
        for (n, a) in c["fft_answers"].as_array().unwrap().iter().enumerate() {
            let r: Response = serde_json::from_value(json!({
                "instrument": "fft", "version": 1, "idempotency_key": format!("vector-key-{n:04}"),
                "answers": {"fft": a},
            }))
            .unwrap();
            agg.add(&score(&fft, &r));
        }
        let got = serde_json::to_value(agg.fft_summary()).unwrap();
        let mut f = Vec::new();
        subset("", &c["expect_fft"], &got, &mut f);
        if got["counts"] != c["expect_fft"]["counts"] {
            f.push(format!(
                "counts: expected {}, got {}",
                c["expect_fft"]["counts"], got["counts"]
            ));
        }
        failures.extend(f.into_iter().map(|m| format!("{}: {m}", c["name"])));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn definition_vectors() {
    let mut failures = Vec::new();
    for c in &cases(DEFINITIONS) {
        let got: Vec<Value> = match Instrument::from_json(&c["definition"].to_string()) {
            Ok(_) => vec![],
            Err(problems) => problems
                .iter()
                .map(|p| json!({"path": p.path, "code": p.code}))
                .collect(),
        };
        if Value::Array(got.clone()) != c["expect_problems"] {
            failures.push(format!(
                "{}: expected {}, got {}",
                c["name"],
                c["expect_problems"],
                Value::Array(got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn i_statement_aggregation_vectors() {
    let ist = instrument("i-statements");
    let mut failures = Vec::new();
    for c in &cases(AGGREGATION_IST) {
        let mut agg = InstrumentAggregate::default();
        for (n, answers) in c["responses"].as_array().unwrap().iter().enumerate() {
            let r: Response = serde_json::from_value(json!({
                "instrument": "i-statements", "version": 1, "idempotency_key": format!("vector-key-{n:04}"), "answers": answers,
            }))
            .unwrap();
            agg.add(&score(&ist, &r));
        }
        let got = serde_json::to_value(agg.theme_summaries()).unwrap();
        let mut f = Vec::new();
        subset("", &c["expect_themes"], &got, &mut f);
        failures.extend(f.into_iter().map(|m| format!("{}: {m}", c["name"])));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
