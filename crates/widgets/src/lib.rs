//! chorus-widgets: Yew renderers over the platform-free `chorus-core` model, registered as
//! custom elements by the small JS loader (`js/loader.js`) that `cargo xtask dist` bundles
//! into `pkg/chorus.js`.
//!
//! The loader owns the custom-element lifecycle (shadow root, stylesheet, attributes); this
//! crate owns everything drawn inside the shadow root. The split keeps the JS tiny and lets
//! every widget be tested from Rust.

#![forbid(unsafe_code)]

pub mod about;
pub mod aid;
pub mod i18n;
pub mod kiosk;
pub mod model;
pub mod results;
pub mod send;
pub mod strings;
pub mod survey;
pub mod ui;

use wasm_bindgen::{JsCast, prelude::*};

/// Is this the whole suite's module (`true`) or the FFT module (`false`, built without the
/// `suite` feature)? A constant, so every branch that only the suite takes (a form's check-your-
/// answers page, a decision aid, About you, a kiosk, `<chorus-results>`) is compiled out of the
/// FFT module (not shipped yet: the bundle is the suite; see BENCHMARKS.md's step table for what
/// the FFT module weighs).
pub const SUITE: bool = cfg!(feature = "suite");
use web_sys::Element;

/// A mounted widget. The loader keeps it on the host element and calls [`Mounted::destroy`]
/// when the element leaves the page, so re-inserting an element never leaks a second app.
#[wasm_bindgen]
pub struct Mounted {
    destroy: Option<App>,
}

#[wasm_bindgen]
impl Mounted {
    /// Unmount the Yew app and free its state.
    pub fn destroy(&mut self) {
        if let Some(App(f)) = self.destroy.take() {
            f();
        }
    }
}

/// Run `f` each time the browser comes back online.
pub fn on_online(f: impl Fn() + 'static) {
    use wasm_bindgen::closure::Closure;
    if let Some(w) = web_sys::window() {
        let cb = Closure::<dyn Fn()>::new(f);
        let _ = w.add_event_listener_with_callback("online", cb.as_ref().unchecked_ref());
        // The listener lives as long as the page.
        cb.forget();
    }
}

/// Deliver anything an earlier visit left queued (offline at the time), once per page load.
/// (A widget that queues during this visit flushes on the `online` event itself.)
fn flush_queue_once() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::Relaxed) {
        wasm_bindgen_futures::spawn_local(async {
            send::queue::flush().await;
        });
    }
}

/// Mount the widget named by `tag` (the custom element's local name) into `root`, the
/// `<div class="chorus-app">` inside the `<div part="root">` of the host element's shadow
/// root. `host` is the custom element itself, from which attributes (`locale`, `endpoint`, …)
/// are read.
#[wasm_bindgen]
pub fn mount(tag: &str, root: Element, host: Element) -> Result<Mounted, JsValue> {
    flush_queue_once();
    let locale = i18n::from_host(&host);
    // The widget's own language and direction, whatever the page around it says.
    i18n::mark(locale, &host);
    if SUITE && tag == "chorus-results" {
        let app = yew::Renderer::<results::Results>::with_root_and_props(
            root,
            results::ResultsProps { locale, host },
        )
        .render()
        .into();
        return Ok(Mounted { destroy: Some(app) });
    }
    let mode = match tag {
        "chorus-form" if SUITE => survey::Mode::Form,
        // The standard FFT (built in: nothing to fetch), a setting variant or the easy-read
        // version: one page, sent from it.
        "chorus-fft" => survey::Mode::Quick,
        "chorus-decision-aid" if SUITE => survey::Mode::Aid,
        other => {
            return Err(JsValue::from_str(&format!(
                "Chorus: unknown widget <{other}>"
            )));
        }
    };
    let app = yew::Renderer::<survey::Survey>::with_root_and_props(
        root,
        survey::SurveyProps { locale, host, mode },
    )
    .render()
    .into();
    Ok(Mounted { destroy: Some(app) })
}

/// Take in a locale file (Polish, Urdu, Romanian) the loader fetched with its pinned hash,
/// before it mounts the widgets that asked for it. `false`: not a locale file.
#[wasm_bindgen]
pub fn add_locale(json: JsValue) -> bool {
    i18n::add(&json)
}

/// The English strings a widget in a fetched (draft) locale has shown for want of a translation, one
/// per line: the loader marks text that holds one of them `lang="en"`.
#[wasm_bindgen]
pub fn untranslated() -> String {
    i18n::untranslated()
}

/// A running Yew app.
struct App(Box<dyn FnOnce()>);

impl<C: yew::BaseComponent> From<yew::AppHandle<C>> for App {
    fn from(h: yew::AppHandle<C>) -> Self {
        App(Box::new(move || h.destroy()))
    }
}
