//! Component tests for `<chorus-fft>`, run in headless Chromium by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A host element with a shadow root and a mount point, as the loader makes them.
fn host(lang: Option<&str>) -> (Element, Element) {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host = doc.create_element("chorus-fft").unwrap();
    if let Some(l) = lang {
        host.set_attribute("locale", l).unwrap();
    }
    doc.body().unwrap().append_child(&host).unwrap();
    let shadow = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    let root = doc.create_element("div").unwrap();
    shadow.append_child(&root).unwrap();
    (host, root)
}

async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(20)).await;
}

#[wasm_bindgen_test]
async fn renders_six_labelled_radios_in_a_fieldset() {
    let (host, root) = host(None);
    let mut mounted = chorus_widgets::mount("chorus-fft", root.clone(), host).unwrap();
    settle().await;
    let radios = root.query_selector_all("input[type=radio]").unwrap();
    assert_eq!(radios.length(), 6);
    for i in 0..radios.length() {
        let input: HtmlInputElement = radios.item(i).unwrap().dyn_into().unwrap();
        let label = root
            .query_selector(&format!("label[for='{}']", input.id()))
            .unwrap();
        assert!(label.is_some(), "radio {} has no label", input.id());
    }
    let legend = root.query_selector("fieldset > legend").unwrap().unwrap();
    assert_eq!(
        legend.text_content().unwrap(),
        "Overall, how was your experience of our service?"
    );
    mounted.destroy();
    settle().await;
    assert_eq!(root.query_selector_all("input").unwrap().length(), 0);
}

#[wasm_bindgen_test]
async fn the_locale_attribute_selects_welsh() {
    let (host, root) = host(Some("cy"));
    let _mounted = chorus_widgets::mount("chorus-fft", root.clone(), host).unwrap();
    settle().await;
    let legend = root.query_selector("legend").unwrap().unwrap();
    assert!(legend.text_content().unwrap().starts_with("Yn gyffredinol"));
}

#[wasm_bindgen_test]
fn an_unknown_widget_is_a_clear_error() {
    let (host, root) = host(None);
    let err = chorus_widgets::mount("chorus-nope", root, host)
        .err()
        .unwrap();
    assert!(err.as_string().unwrap().contains("unknown widget"));
}

#[wasm_bindgen_test]
fn the_hand_written_submission_json_round_trips_through_the_core() {
    use chorus_core::{Answer, Response};
    let mut answers = std::collections::BTreeMap::new();
    answers.insert("fft".to_string(), Answer::Text("good".into()));
    answers.insert(
        "why".to_string(),
        Answer::Text("Quote \" back\\slash\nnew line \u{1} é 😊".into()),
    );
    answers.insert("n".to_string(), Answer::Number(-7));
    answers.insert("b".to_string(), Answer::Bool(true));
    answers.insert(
        "l".to_string(),
        Answer::List(vec!["a".into(), "b\"".into()]),
    );
    let r = Response {
        instrument: "fft".into(),
        version: 1,
        locale: chorus_core::Locale::Cy,
        idempotency_key: "abc-123-def".into(),
        answers,
        client_scores: None,
    };
    let json = chorus_widgets::send::submission_json("demo", Some("a&e"), &r);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["site"], "demo");
    assert_eq!(v["service"], "a&e");
    let back: Response = serde_json::from_value(v["response"].clone()).unwrap();
    assert_eq!(back, r);
}
