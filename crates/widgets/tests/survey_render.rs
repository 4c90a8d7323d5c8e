//! Component tests for `<chorus-form>` and `<chorus-decision-aid>`, run in headless Chromium
//! by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use chorus_core::{Answer, Instrument, Response, score};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Every shipped instrument, as the files the server loads.
const LIBRARY: [&str; 16] = [
    include_str!("../../core/instruments/aid-blood-pressure.json"),
    include_str!("../../core/instruments/aid-knee-pain.json"),
    include_str!("../../core/instruments/aid-statins.json"),
    include_str!("../../core/instruments/collaborate.json"),
    include_str!("../../core/instruments/fft-ae.json"),
    include_str!("../../core/instruments/fft-community.json"),
    include_str!("../../core/instruments/fft-easy-read.json"),
    include_str!("../../core/instruments/fft-gp.json"),
    include_str!("../../core/instruments/fft-inpatient.json"),
    include_str!("../../core/instruments/fft-maternity.json"),
    include_str!("../../core/instruments/fft-mental-health.json"),
    include_str!("../../core/instruments/fft-outpatient.json"),
    include_str!("../../core/instruments/fft.json"),
    include_str!("../../core/instruments/i-statements.json"),
    include_str!("../../core/instruments/sdm-q-9.json"),
    include_str!("../../core/instruments/sure.json"),
];

/// A small form: two themed pages of agreement items (one required) and a free-text page.
const SMALL_FORM: &str = r#"{
  "id": "test-form", "version": 3, "scoring": "i_statements",
  "title": {"en": "Test form", "cy": "Ffurflen brawf"},
  "themes": [
    {"id": "a", "title": {"en": "Theme A", "cy": "Thema A"}},
    {"id": "b", "title": {"en": "Theme B", "cy": "Thema B"}}
  ],
  "items": [
    {"id": "a1", "kind": "agreement", "theme": "a", "required": true,
     "text": {"en": "I was listened to.", "cy": "Cefais fy nghlywed."}},
    {"id": "a2", "kind": "agreement", "theme": "a",
     "text": {"en": "I was told what would happen.", "cy": "Cefais wybod beth fyddai'n digwydd."}},
    {"id": "b1", "kind": "agreement", "theme": "b",
     "text": {"en": "I felt safe.", "cy": "Roeddwn i'n teimlo'n ddiogel."}},
    {"id": "why", "kind": "free_text", "max_length": 200,
     "text": {"en": "Anything else?", "cy": "Unrhyw beth arall?"}}
  ]
}"#;

fn doc() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A host element (site `demo`) with an inline instrument, a shadow root and a mount point, as
/// the loader makes them.
fn host(tag: &str, json: &str, attrs: &[(&str, &str)]) -> (Element, Element) {
    let host = doc().create_element(tag).unwrap();
    host.set_attribute("site", "demo").unwrap();
    // Its own id, so no test restores another's kept answers (`send::draft`).
    host.set_id(&format!("host-{}", js_sys::Math::random()));
    for (k, v) in attrs {
        host.set_attribute(k, v).unwrap();
    }
    let script = doc().create_element("script").unwrap();
    script.set_attribute("type", "application/json").unwrap();
    script.set_text_content(Some(json));
    host.append_child(&script).unwrap();
    doc().body().unwrap().append_child(&host).unwrap();
    let shadow = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    let root = doc().create_element("div").unwrap();
    root.set_attribute("part", "root").unwrap();
    shadow.append_child(&root).unwrap();
    (host, root)
}

async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

fn q(root: &Element, sel: &str) -> Element {
    root.query_selector(sel)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {sel}"))
}

/// `tag`'s widget mounted on a new host (see [`host`]) and settled: the host, its root, and the
/// mount, to keep for as long as the test uses the widget.
async fn mounted(
    tag: &str,
    json: &str,
    attrs: &[(&str, &str)],
) -> (Element, Element, chorus_widgets::Mounted) {
    let (host, root) = host(tag, json, attrs);
    let m = chorus_widgets::mount(tag, root.clone(), host.clone()).unwrap();
    settle().await;
    (host, root, m)
}

/// Is the radio or checkbox `sel` checked?
fn checked(root: &Element, sel: &str) -> bool {
    q(root, sel)
        .dyn_into::<HtmlInputElement>()
        .unwrap()
        .checked()
}

fn text(root: &Element, sel: &str) -> String {
    q(root, sel).text_content().unwrap_or_default()
}

async fn click(root: &Element, sel: &str) {
    q(root, sel).dyn_into::<HtmlElement>().unwrap().click();
    settle().await;
}

/// The focused element inside the widget's shadow root.
fn focused(host: &Element) -> Option<Element> {
    host.shadow_root().unwrap().active_element()
}

#[wasm_bindgen_test]
fn the_js_walker_reads_every_library_instrument_exactly_as_serde_does() {
    for json in LIBRARY {
        let via_serde = Instrument::from_json(json).unwrap();
        let parsed = js_sys::JSON::parse(json).unwrap();
        let via_js = chorus_widgets::model::instrument_from_js(&parsed).unwrap();
        assert_eq!(via_js, via_serde, "{}", via_serde.id);
    }
}

const STATINS: &str = include_str!("../../core/instruments/aid-statins.json");

#[wasm_bindgen_test]
fn the_js_walker_reads_each_aid_s_about_and_outcomes_exactly_as_the_core_does() {
    for json in &LIBRARY[..3] {
        let (i, core) = chorus_core::aid::load(json).unwrap();
        let parsed = js_sys::JSON::parse(json).unwrap();
        let via_js = chorus_widgets::model::aid_from_js(&parsed, &i).unwrap();
        assert_eq!(via_js.about, core.about, "{}", i.id);
        assert_eq!(via_js.outcomes.len(), core.outcomes.len(), "{}", i.id);
        for (id, o) in &via_js.outcomes {
            assert_eq!(Some(o), core.outcome(id), "{} {id}", i.id);
        }
    }
    let i = Instrument::from_json(STATINS).unwrap();
    assert_eq!(
        chorus_widgets::model::aid_from_js(&js_sys::JSON::parse(STATINS).unwrap(), &i)
            .unwrap()
            .outcomes
            .len(),
        2
    );
    // Numbers the core refuses are refused here too: mixed denominators across options, and
    // more events than people.
    let mixed = STATINS.replacen("\"per\": 100,", "\"per\": 1000,", 1);
    assert!(
        chorus_core::aid::problems(&mixed)
            .iter()
            .any(|p| p.code == "mixed_denominators")
    );
    let e =
        chorus_widgets::model::aid_from_js(&js_sys::JSON::parse(&mixed).unwrap(), &i).unwrap_err();
    assert!(e.0.starts_with("$.items[2].outcome:"), "{}", e.0);
    let over = STATINS.replacen("\"events\": 7,", "\"events\": 170,", 1);
    assert!(!chorus_core::aid::problems(&over).is_empty());
    let e =
        chorus_widgets::model::aid_from_js(&js_sys::JSON::parse(&over).unwrap(), &i).unwrap_err();
    assert!(e.0.starts_with("$.items[2].outcome:"), "{}", e.0);
    // A range that leaves the rate out, and an option with no rate, are refused too.
    let range = STATINS.replacen("\"low\": 5,", "\"low\": 8,", 1);
    assert!(chorus_widgets::model::aid_from_js(&js_sys::JSON::parse(&range).unwrap(), &i).is_err());
    let lost = STATINS.replacen("\"option\": \"no-statin\",", "\"option\": \"statin\",", 1);
    assert!(chorus_widgets::model::aid_from_js(&js_sys::JSON::parse(&lost).unwrap(), &i).is_err());
    // An incomplete `about` is shown as far as it goes (`chorus check` holds authors to it).
    let bare = STATINS.replacen("\"funding\":", "\"funding_was\":", 1);
    let a = chorus_widgets::model::aid_from_js(&js_sys::JSON::parse(&bare).unwrap(), &i).unwrap();
    assert_eq!(a.about.unwrap().funding, None);
}

#[wasm_bindgen_test]
async fn an_aid_draws_each_outcome_in_words_beside_an_icon_array_and_its_about() {
    let (_, root, _m) = mounted("chorus-decision-aid", STATINS, &[]).await;
    let outcome = q(&root, "[part=outcome]");
    let words = outcome.text_content().unwrap();
    assert!(
        words.contains("Over 10 years, 7 out of 100 people have a heart attack or stroke."),
        "{words}"
    );
    assert!(
        words.contains("93 out of 100 people do not have a heart attack or stroke."),
        "{words}"
    );
    assert!(words.contains("anywhere from 5 to 9 out of 100"), "{words}");
    // 100 squares per option: 7 filled for the statin, 10 without; hidden from screen readers.
    let arrays = root.query_selector_all("svg[part=icon-array]").unwrap();
    assert_eq!(arrays.length(), 4);
    let first: Element = arrays.get(0).unwrap().dyn_into().unwrap();
    assert_eq!(first.get_attribute("aria-hidden").as_deref(), Some("true"));
    let squares = |sel: &str| {
        q(&first, sel)
            .get_attribute("d")
            .unwrap()
            .matches('M')
            .count()
    };
    assert_eq!(
        (squares(".chorus-icons__on"), squares(".chorus-icons__off")),
        (7, 93)
    );
    let aches: Element = arrays.get(2).unwrap().dyn_into().unwrap();
    assert_eq!(
        aches.get_attribute("viewBox").as_deref(),
        Some("0 0 400 250")
    );
    // About this aid, on the first page (folded) with every part the file gives.
    let about = text(&root, "[part=about-aid]");
    for want in [
        "About this aid",
        "Chorus project team",
        "20 November 2027",
        "No outside funding",
        "https://www.nice.org.uk/guidance/ng238",
        "chorus-example-figures-2026",
    ] {
        assert!(about.contains(want), "{want} in {about}");
    }
    // In date: no review note.
    assert!(root.query_selector("[part=review-note]").unwrap().is_none());
    // The questions box is on the summary, not a page of its own.
    assert!(root.query_selector("#q-my-questions").unwrap().is_none());
}

#[wasm_bindgen_test]
fn the_walker_names_the_path_of_a_shape_error_and_runs_definition_checks() {
    let bad = js_sys::JSON::parse(
        r#"{"id":"x","version":1.5,"scoring":"fft","title":{"en":"t"},"items":[]}"#,
    )
    .unwrap();
    let e = chorus_widgets::model::instrument_from_js(&bad).unwrap_err();
    assert!(e.0.contains("$.version"), "{}", e.0);
    let bad = js_sys::JSON::parse(r#"{"id":"x","version":1,"scoring":"fft","title":{"en":"t"},"items":[{"id":"a","kind":"dance","text":{"en":"q"}}]}"#).unwrap();
    let e = chorus_widgets::model::instrument_from_js(&bad).unwrap_err();
    assert!(
        e.0.contains("$.items[0].kind") && e.0.contains("dance"),
        "{}",
        e.0
    );
    // Well-formed but not a valid FFT (no item with the fft role): the core's rules apply.
    let bad = js_sys::JSON::parse(r#"{"id":"x","version":1,"scoring":"fft","title":{"en":"t"},"items":[{"id":"a","kind":"info","text":{"en":"q"}}]}"#).unwrap();
    assert!(chorus_widgets::model::instrument_from_js(&bad).is_err());
}

#[wasm_bindgen_test]
async fn a_form_pages_by_theme_checks_each_page_and_ends_with_check_your_answers() {
    let (host, root, _m) = mounted("chorus-form", SMALL_FORM, &[]).await;
    // Page 1: theme A, progress shown, six labelled radios per statement.
    let h = text(&root, "h2");
    assert!(h.contains("page 1 of 3") && h.contains("Theme A"), "{h}");
    assert_eq!(
        root.query_selector_all("fieldset").unwrap().length(),
        2,
        "one fieldset per statement"
    );
    assert_eq!(
        root.query_selector_all("input[type=radio]")
            .unwrap()
            .length(),
        12
    );
    assert!(
        root.query_selector("label[for='q-a1-5']")
            .unwrap()
            .is_some()
    );
    // Continue with the required statement unanswered: the error summary takes focus and
    // links to the field, which carries its own message.
    click(&root, "button[type=submit]").await;
    let summary = q(&root, ".chorus-error-summary");
    assert_eq!(focused(&host).as_ref(), Some(&summary));
    let link = q(&summary, "a");
    assert_eq!(link.get_attribute("href").as_deref(), Some("#q-a1"));
    assert!(link.text_content().unwrap().contains("I was listened to."));
    assert!(text(&root, ".chorus-error-message").contains("Select an answer"));
    // The link moves focus to the first radio of that statement.
    link.dyn_into::<HtmlElement>().unwrap().click();
    settle().await;
    assert_eq!(focused(&host).map(|e| e.id()), Some("q-a1".into()));
    // Answer (agree) and continue: page 2, its heading focused, no errors left.
    click(&root, "#q-a1-1").await;
    click(&root, "button[type=submit]").await;
    assert!(text(&root, "h2").contains("Theme B"));
    assert!(
        root.query_selector(".chorus-error-summary")
            .unwrap()
            .is_none()
    );
    assert_eq!(focused(&host).map(|e| e.tag_name()), Some("H2".into()));
    // Back keeps the answer.
    click(&root, ".chorus-back-link").await;
    assert!(checked(&root, "#q-a1-1"));
    click(&root, "button[type=submit]").await;
    click(&root, "button[type=submit]").await;
    // Page 3: free text; personal details are previewed as redacted.
    let area = q(&root, "textarea");
    let area: web_sys::HtmlTextAreaElement = area.dyn_into().unwrap();
    area.set_value("Ring me on 07700 900123 please");
    area.dispatch_event(&web_sys::InputEvent::new("input").unwrap())
        .unwrap();
    settle().await;
    assert!(text(&root, ".chorus-redacted").contains("[phone number]"));
    click(&root, "button[type=submit]").await;
    // Check your answers: every answerable item, the free text as it will be stored.
    assert!(text(&root, "h2").contains("Check your answers"));
    let rows = root
        .query_selector_all(".chorus-summary-list__row")
        .unwrap();
    assert_eq!(rows.length(), 4);
    let all = root.text_content().unwrap();
    assert!(
        all.contains("Agree") && all.contains("Not answered"),
        "{all}"
    );
    assert!(
        all.contains("[phone number]") && !all.contains("07700"),
        "{all}"
    );
    // Change an answer: back to its page with that field focused, then straight back here.
    let change = root
        .query_selector_all(".chorus-summary-list__row button")
        .unwrap()
        .item(2)
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap();
    change.click();
    settle().await;
    assert!(text(&root, "h2").contains("Theme B"));
    assert_eq!(focused(&host).map(|e| e.id()), Some("q-b1".into()));
    click(&root, "#q-b1-4").await;
    click(&root, "button[type=submit]").await;
    assert!(text(&root, "h2").contains("Check your answers"));
    assert!(root.text_content().unwrap().contains("Strongly disagree"));
}

#[wasm_bindgen_test]
async fn a_form_speaks_welsh_when_asked() {
    let (_, root, _m) = mounted("chorus-form", SMALL_FORM, &[("locale", "cy")]).await;
    let h = text(&root, "h2");
    assert!(h.contains("tudalen 1 o 3") && h.contains("Thema A"), "{h}");
    assert!(root.text_content().unwrap().contains("Cytuno'n gryf"));
    click(&root, "button[type=submit]").await;
    assert!(text(&root, ".chorus-error-summary").contains("Mae problem"));
}

#[wasm_bindgen_test]
async fn an_invalid_inline_instrument_is_refused_plainly_and_reported_to_the_page() {
    let (host, root) = host("chorus-form", r#"{"id": "x"}"#, &[]);
    let seen = std::rc::Rc::new(std::cell::RefCell::new(None::<String>));
    let cb = {
        let seen = seen.clone();
        wasm_bindgen::closure::Closure::<dyn Fn(web_sys::CustomEvent)>::new(
            move |e: web_sys::CustomEvent| {
                let code = js_sys::Reflect::get(&e.detail(), &JsValue::from_str("code"))
                    .unwrap()
                    .as_string();
                *seen.borrow_mut() = code;
            },
        )
    };
    host.add_event_listener_with_callback("chorus:error", cb.as_ref().unchecked_ref())
        .unwrap();
    let _m = chorus_widgets::mount("chorus-form", root.clone(), host).unwrap();
    settle().await;
    assert!(root.text_content().unwrap().contains("not available"));
    assert_eq!(seen.borrow().as_deref(), Some("instrument_unavailable"));
}

#[wasm_bindgen_test]
async fn a_decision_aid_ends_with_the_lean_the_core_computes() {
    let json = LIBRARY[1]; // aid-knee-pain
    let (_, root, _m) = mounted("chorus-decision-aid", json, &[]).await;
    // Page 1: the option grid, a real table with row and column headers.
    assert!(
        root.query_selector("table th[scope=col]")
            .unwrap()
            .is_some()
    );
    assert!(
        root.query_selector("table th[scope=row]")
            .unwrap()
            .is_some()
    );
    click(&root, "button[type=submit]").await;
    // Values: importance 0–10 on each consideration; answer them.
    let instrument = Instrument::from_json(json).unwrap();
    let importance: Vec<_> = instrument
        .items
        .iter()
        .filter(|i| i.kind == chorus_core::ItemKind::Importance)
        .collect();
    let weights = [10, 2, 7, 0];
    let mut answers = std::collections::BTreeMap::new();
    for (it, w) in importance.iter().zip(weights) {
        let sel = if w == 0 {
            format!("#q-{}", it.id)
        } else {
            format!("#q-{}-{w}", it.id)
        };
        click(&root, &sel).await;
        answers.insert(it.id.clone(), Answer::Number(w));
    }
    click(&root, "button[type=submit]").await;
    // Knowledge: answer the first question wrongly; the explanation appears at once.
    let k = instrument
        .items
        .iter()
        .find(|i| i.kind == chorus_core::ItemKind::Knowledge)
        .unwrap();
    let wrong = k
        .options
        .iter()
        .position(|o| Some(&o.id) != k.answer.as_ref())
        .unwrap();
    let sel = if wrong == 0 {
        format!("#q-{}", k.id)
    } else {
        format!("#q-{}-{wrong}", k.id)
    };
    click(&root, &sel).await;
    answers.insert(k.id.clone(), Answer::Text(k.options[wrong].id.clone()));
    assert!(text(&root, "[part=feedback]").contains("Not quite"));
    click(&root, "button[type=submit]").await;
    // SURE: required; yes to all four.
    for it in instrument
        .items
        .iter()
        .filter(|i| i.role.as_deref() == Some("sure"))
    {
        click(&root, &format!("#q-{}", it.id)).await;
        answers.insert(it.id.clone(), Answer::Bool(true));
    }
    click(&root, "button[type=submit]").await;
    // The summary says what the core says.
    let report = score(
        &instrument,
        &Response {
            instrument: instrument.id.clone(),
            version: instrument.version,
            locale: chorus_core::Locale::En,
            idempotency_key: "k".into(),
            answers,
            client_scores: None,
        },
    );
    let summary = text(&root, "[part=summary]");
    let lean = report.lean.unwrap();
    match &lean.towards {
        Some(o) => {
            let name = instrument.options.iter().find(|x| &x.id == o).unwrap();
            assert!(
                summary.contains(&format!("Your answers lean towards: {}", name.text.en)),
                "{summary}"
            );
        }
        None => assert!(summary.contains("do not lean clearly"), "{summary}"),
    }
    let k = report.knowledge.unwrap();
    assert!(summary.contains(&format!(
        "You answered {} of {} questions correctly",
        k.correct, k.questions
    )));
    assert!(summary.contains("ready to make this decision"));
    // Print and save are offered; no send button unless the page asks for one (`send`).
    let buttons = root.text_content().unwrap();
    assert!(buttons.contains("Print your summary") && buttons.contains("Save your summary"));
    assert!(!buttons.contains("anonymously"));
}

#[wasm_bindgen_test]
async fn an_fft_variant_is_drawn_from_its_instrument_on_one_page_with_easy_read_symbols() {
    let json = LIBRARY[6]; // fft-easy-read
    let (host, root, _m) = mounted("chorus-fft", json, &[("instrument", "fft-easy-read")]).await;
    // One page, sent from the page itself: no progress, no "check your answers".
    assert!(root.query_selector("[part=progress]").unwrap().is_none());
    assert_eq!(text(&root, "button[type=submit]").trim(), "Send feedback");
    // Each answer has its symbol, hidden from screen readers (the words carry the meaning).
    let symbols = root
        .query_selector_all("label .chorus-symbol[aria-hidden=true]")
        .unwrap();
    assert_eq!(symbols.length(), 6);
    assert!(
        root.text_content()
            .unwrap()
            .contains("What made you feel that way?")
    );
    // The FFT answer is required: the error summary takes focus.
    click(&root, "button[type=submit]").await;
    let summary = q(&root, ".chorus-error-summary");
    assert_eq!(focused(&host).as_ref(), Some(&summary));
}

#[wasm_bindgen_test]
async fn a_re_mounted_form_comes_back_on_its_page_with_its_answers_but_not_for_another_version() {
    let (host, root, mut m) = mounted("chorus-form", SMALL_FORM, &[]).await;
    click(&root, "#q-a1-1").await;
    click(&root, "button[type=submit]").await;
    assert!(text(&root, "h2").contains("Theme B"));
    m.destroy();
    settle().await;
    // Added again (say, a single-page app's tab switch): the same page, the same answers.
    let mut m = chorus_widgets::mount("chorus-form", root.clone(), host.clone()).unwrap();
    settle().await;
    assert!(
        text(&root, "h2").contains("Theme B"),
        "{}",
        text(&root, "h2")
    );
    click(&root, ".chorus-back-link").await;
    assert!(checked(&root, "#q-a1-1"));
    m.destroy();
    settle().await;
    // The instrument changed meanwhile: what was kept is for another version, so not used.
    q(&host, "script").set_text_content(Some(
        &SMALL_FORM.replace("\"version\": 3", "\"version\": 4"),
    ));
    let _m = chorus_widgets::mount("chorus-form", root.clone(), host.clone()).unwrap();
    settle().await;
    assert!(text(&root, "h2").contains("page 1 of 3"));
    assert!(!checked(&root, "#q-a1-1"));
}
