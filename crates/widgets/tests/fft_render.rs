//! Component tests for `<chorus-fft>`, run in headless Chromium by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A host element (configured with a site) with a shadow root and a mount point, as the loader
/// makes them.
fn host(lang: Option<&str>) -> (Element, Element) {
    let (host, root) = bare_host();
    host.set_attribute("site", "demo").unwrap();
    if let Some(l) = lang {
        host.set_attribute("locale", l).unwrap();
    }
    (host, root)
}

/// A host element with no attributes at all, as a CMS that strips them leaves it.
fn bare_host() -> (Element, Element) {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host = doc.create_element("chorus-fft").unwrap();
    // Its own id, so no test restores another's kept answers (`send::draft`).
    host.set_id(&format!("host-{}", js_sys::Math::random()));
    doc.body().unwrap().append_child(&host).unwrap();
    let shadow = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    let root = doc.create_element("div").unwrap();
    shadow.append_child(&root).unwrap();
    (host, root)
}

/// The first element `sel` picks in `root`, as the kind the test expects (it must be there).
fn found<T: JsCast>(root: &Element, sel: &str) -> T {
    root.query_selector(sel)
        .unwrap()
        .unwrap_or_else(|| panic!("no {sel}"))
        .dyn_into()
        .unwrap()
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
    let json = chorus_widgets::send::submission_json("demo", Some("a&e"), Some("sms"), &r);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["site"], "demo");
    assert_eq!(v["service"], "a&e");
    assert_eq!(v["mode"], "sms");
    let back: Response = serde_json::from_value(v["response"].clone()).unwrap();
    assert_eq!(back, r);
}

/// Records the `code` of every `chorus:error` the host dispatches.
fn error_codes(host: &Element) -> std::rc::Rc<std::cell::RefCell<Vec<String>>> {
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let cb = {
        let seen = seen.clone();
        wasm_bindgen::closure::Closure::<dyn Fn(web_sys::CustomEvent)>::new(
            move |e: web_sys::CustomEvent| {
                let code = js_sys::Reflect::get(&e.detail(), &"code".into())
                    .unwrap()
                    .as_string()
                    .unwrap_or_default();
                seen.borrow_mut().push(code);
            },
        )
    };
    host.add_event_listener_with_callback("chorus:error", cb.as_ref().unchecked_ref())
        .unwrap();
    cb.forget();
    seen
}

#[wasm_bindgen_test]
async fn without_a_site_there_is_no_form_but_the_fallback_and_not_configured() {
    let (host, root) = bare_host();
    host.set_attribute("fallback-phone", "0300 123 4567")
        .unwrap();
    host.set_attribute("fallback-href", "javascript:alert(1)")
        .unwrap();
    let seen = error_codes(&host);
    let _m = chorus_widgets::mount("chorus-fft", root.clone(), host).unwrap();
    settle().await;
    assert_eq!(
        root.query_selector_all("input, textarea, button")
            .unwrap()
            .length(),
        0
    );
    let text = root.text_content().unwrap();
    assert!(text.contains("not working at the moment"), "{text}");
    let links = root.query_selector_all("a").unwrap();
    assert_eq!(links.length(), 1, "the javascript: link is not offered");
    let tel: Element = links.item(0).unwrap().dyn_into().unwrap();
    assert_eq!(
        tel.get_attribute("href").as_deref(),
        Some("tel:03001234567")
    );
    assert_eq!(*seen.borrow(), vec!["not_configured".to_string()]);
}

#[wasm_bindgen_test]
async fn the_character_count_is_hidden_from_screen_readers_and_its_status_starts_empty() {
    let (host, root) = host(None);
    host.set_id("count-fft");
    let _m = chorus_widgets::mount("chorus-fft", root.clone(), host.clone()).unwrap();
    settle().await;
    assert!(
        root.query_selector("[part=character-count][aria-live]")
            .unwrap()
            .is_none()
    );
    let count = root
        .query_selector("[part=character-count]")
        .unwrap()
        .unwrap();
    assert_eq!(count.get_attribute("aria-hidden").as_deref(), Some("true"));
    let status = root
        .query_selector("[part=character-count-status][aria-live=polite]")
        .unwrap()
        .unwrap();
    assert_eq!(status.text_content().unwrap(), "");
    let area: web_sys::HtmlTextAreaElement = found(&root, "textarea");
    area.set_value("abc");
    area.dispatch_event(&web_sys::InputEvent::new("input").unwrap())
        .unwrap();
    settle().await;
    assert_eq!(
        count.text_content().unwrap().trim(),
        "1197 characters remaining"
    );
    assert_eq!(
        status.text_content().unwrap(),
        "",
        "not spoken while typing"
    );
    yew::platform::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(status.text_content().unwrap(), "1197 characters remaining");
    chorus_widgets::send::draft::clear(&host);
}

#[wasm_bindgen_test]
async fn a_re_mounted_fft_keeps_the_typed_answers() {
    let (host, root) = host(None);
    host.set_id("kept-fft");
    let mut m = chorus_widgets::mount("chorus-fft", root.clone(), host.clone()).unwrap();
    settle().await;
    let poor: HtmlInputElement = found(&root, "#q-fft-3");
    poor.click();
    let area: web_sys::HtmlTextAreaElement = found(&root, "textarea");
    area.set_value("Cold food");
    area.dispatch_event(&web_sys::InputEvent::new("input").unwrap())
        .unwrap();
    settle().await;
    m.destroy();
    settle().await;
    let _m = chorus_widgets::mount("chorus-fft", root.clone(), host.clone()).unwrap();
    settle().await;
    let poor: HtmlInputElement = found(&root, "#q-fft-3");
    assert!(poor.checked());
    let area: web_sys::HtmlTextAreaElement = found(&root, "textarea");
    assert_eq!(area.value(), "Cold food");
    chorus_widgets::send::draft::clear(&host);
}
