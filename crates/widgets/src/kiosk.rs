//! Kiosk (tablet) mode: `<chorus-fft kiosk>` and `<chorus-form kiosk>` on a tablet that one
//! patient after another uses.
//!
//! After sending, the thanks stay up for `kiosk-reset` seconds (default 8), then the widget
//! starts afresh for the next patient. A half-filled form left alone for `kiosk-idle` seconds
//! (default 90) is cleared, with a warning (in a live region) for the last part of that time;
//! any touch or key press in the widget starts the wait again. Answers are never kept on the
//! device (no draft); the survey draws a new app for each patient, so nothing of one is in
//! the next one's page.

use std::{cell::Cell, rc::Rc, time::Duration};

use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::Element;
use yew::Callback;

/// What the widget shows, as the survey writes it on each render.
pub const EMPTY: u8 = 0;
/// A patient is part-way through (answers given, or past the first page).
pub const BUSY: u8 = 1;
/// Sent or saved: the thanks are showing.
pub const DONE: u8 = 2;
/// Sending: nothing is cleared while the answers are on their way.
pub const SENDING: u8 = 3;

/// Whole seconds from the attribute `name`, or `default` (a missing, zero or unreadable value).
fn seconds(host: &Element, name: &str, default: u32) -> f64 {
    let s = host
        .get_attribute(name)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(default);
    s as f64 * 1000.0
}

/// Start the kiosk clock for a mounted survey; it stops when the returned flag is set false
/// (the survey's unmount). `phase` is one of the constants above; `warn` shows or hides the
/// "still there?" warning; `restart` draws a fresh form.
pub fn clock(
    host: &Element,
    phase: Rc<Cell<u8>>,
    warn: Callback<bool>,
    restart: Callback<()>,
) -> Rc<Cell<bool>> {
    let reset = seconds(host, "kiosk-reset", 8);
    let idle = seconds(host, "kiosk-idle", 90);
    // Warned for the last third, at most 20 s.
    let warn_at = idle - (idle / 3.0).min(20_000.0);
    let alive = Rc::new(Cell::new(true));
    let now = js_sys::Date::now;
    let last = Rc::new(Cell::new(now()));
    let touched = {
        let last = last.clone();
        Closure::<dyn Fn()>::new(move || last.set(now()))
    };
    // Events from inside the shadow root reach the host (they are composed).
    const ACTIVITY: [&str; 3] = ["pointerdown", "keydown", "input"];
    for e in ACTIVITY {
        let _ = host.add_event_listener_with_callback(e, touched.as_ref().unchecked_ref());
    }
    let (on, host) = (alive.clone(), host.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let (mut seen, mut warned) = (EMPTY, false);
        while on.get() {
            yew::platform::time::sleep(Duration::from_millis(250)).await;
            let p = phase.get();
            if p != seen {
                seen = p;
                last.set(now());
            }
            let quiet = now() - last.get();
            let w = p == BUSY && quiet >= warn_at;
            if w != warned {
                warned = w;
                warn.emit(w);
            }
            if on.get() && ((p == DONE && quiet >= reset) || (p == BUSY && quiet >= idle)) {
                restart.emit(());
                break;
            }
        }
        for e in ACTIVITY {
            let _ = host.remove_event_listener_with_callback(e, touched.as_ref().unchecked_ref());
        }
    });
    alive
}
