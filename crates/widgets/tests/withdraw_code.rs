//! The patient's withdrawal code in the envelope, run in headless Chromium by `cargo xtask
//! test`: one code per response, the same on every retry, from the browser's CSPRNG.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;

use chorus_core::{Answer, Response};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn response(key: &str) -> Response {
    let mut answers = BTreeMap::new();
    answers.insert("fft".to_string(), Answer::Text("good".into()));
    Response {
        instrument: "fft".into(),
        version: 1,
        locale: chorus_core::Locale::En,
        idempotency_key: key.into(),
        answers,
        client_scores: None,
    }
}

fn code_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["withdraw_secret"].as_str().unwrap().to_string()
}

#[wasm_bindgen_test]
fn each_response_gets_its_own_code_and_a_retry_sends_the_same() {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host = doc.create_element("chorus-fft").unwrap();
    host.set_attribute("site", "demo").unwrap();
    let first = chorus_widgets::send::prepare(&host, &response("withdraw-key-1"));
    let retry = chorus_widgets::send::prepare(&host, &response("withdraw-key-1"));
    let other = chorus_widgets::send::prepare(&host, &response("withdraw-key-2"));
    let code = code_of(&first.body);
    assert!(chorus_core::withdraw::is_secret(&code), "{code}");
    assert_eq!(code.len(), chorus_core::withdraw::SECRET_LEN);
    assert_eq!(first.body, retry.body, "a retry is the same body");
    assert_ne!(code, code_of(&other.body));
    // The rest of the envelope is as before.
    let v: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(v["site"], "demo");
    assert_eq!(v["response"]["idempotency_key"], "withdraw-key-1");
    // A shared kiosk sends none: the next person would read it off the screen.
    host.set_attribute("kiosk", "").unwrap();
    let kiosk = chorus_widgets::send::prepare(&host, &response("withdraw-key-3"));
    assert!(!kiosk.body.contains("withdraw_secret"), "{}", kiosk.body);
    // Nothing is shown before a receipt says the site allows it.
    assert_eq!(chorus_widgets::send::withdraw::shown("CH-2222-2222"), None);
}
