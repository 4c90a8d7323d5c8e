// Chorus loader: defines <chorus-fft>, <chorus-form>, <chorus-decision-aid> and <chorus-results> as custom elements.
// `cargo xtask dist` wraps this file, together with wasm-bindgen's no-modules glue, in one
// function scope so nothing leaks onto the host page; the __CHORUS_…__ names are filled in then.
// It is a classic script so that `document.currentScript` tells us where the bundle lives and
// the web team's one <script src integrity> tag covers all the JavaScript.
const base = document.currentScript && document.currentScript.src ? document.currentScript.src : location.href;
const wasmUrl = new URL(__CHORUS_WASM__, base);
const wasmIntegrity = __CHORUS_WASM_SRI__;
const css = __CHORUS_CSS__;
// Locales fetched on demand, not in the bundle: tag -> [file, SRI hash] (see `cargo xtask dist`).
const LOCALES = __CHORUS_LOCALES__;
const fetchedLocales = {};
// The standard FFT's first screen, as the app draws it (`crates/widgets/prerender/fft.json`,
// written from the app's own markup and checked against it by tests/e2e/prerender.test.mjs):
// drawn the moment a plain <chorus-fft> connects, before the module has arrived, then taken
// over by the app. null: none in this build.
const PRERENDER = __CHORUS_PRERENDER__;
let sheet = null;
let ready = null;

// Shown (with the element's own children, the web team's fallback) when the widget cannot start.
const FAILED = {
  en: "Sorry, this feedback form could not be loaded.",
  cy: "Mae'n ddrwg gennym, nid oedd modd llwytho'r ffurflen adborth hon.",
  ar: "عذرًا، تعذّر تحميل نموذج الملاحظات هذا.",
};

// One fetch and one compile for every widget on the page; the hash pins the exact module.
// Started the moment this script runs, before any element is defined, so no request waits for
// another; the module is compiled while it downloads (`instantiateStreaming`, inside
// wasm-bindgen's init) when the server labels it `application/wasm`. A server that labels it
// otherwise gets the whole body compiled at once instead: slower, never broken.
function boot() {
  if (!ready) {
    // "same-origin" credentials: what a `crossorigin="anonymous"` preload uses, so the
    // snippet's preload hint is the download this fetch takes (with "omit" it never matches).
    const module = fetch(wasmUrl, { integrity: wasmIntegrity, credentials: "same-origin", mode: "cors" }).then((r) =>
      r.ok && !(r.headers.get("content-type") || "").startsWith("application/wasm") ? r.arrayBuffer() : r,
    );
    ready = wasm_bindgen({ module_or_path: module });
    // Each element reports its own failure; a page with none must not log an unhandled one.
    ready.catch(() => {});
  }
  return ready;
}
boot();

// Attributes that do not change the FFT's first screen: an element with any other (about-you,
// kiosk, an inline instrument…) waits for the app, as does a language the file has no screen for.
const PLAIN = ["site", "service", "endpoint", "locale", "mode", "id", "class", "style", "lang", "dir", "hidden", "title", "slot", "fallback-href", "fallback-phone"];

function prerenderable(el, lang) {
  if (!PRERENDER || el.localName !== "chorus-fft" || !PRERENDER[lang]) return false;
  const instrument = el.getAttribute("instrument");
  if (instrument !== null && instrument !== "fft") return false;
  if (el.querySelector(":scope > script[type='application/json']")) return false;
  return el.getAttributeNames().every((a) => PLAIN.includes(a) || a.startsWith("data-") || a.startsWith("aria-"));
}

// The node a tree entry stands for: text, or [tag, [[name, value]…], ...children]. Built with
// the DOM (no HTML strings), so it runs where Trusted Types are enforced.
function build(n) {
  if (typeof n === "string") return document.createTextNode(n);
  const [tag, attrs, ...children] = n;
  const e = document.createElement(tag);
  for (const [k, v] of attrs) e.setAttribute(k, v);
  e.append(...children.map(build));
  return e;
}

// The key and shape of the app's own draft (`send::draft` in crates/widgets/src/send.rs), so an
// answer given to the first screen is kept, as the app keeps it, even if the module is slow or
// the page removes the element, and the app starts from it.
function draftKey(el) {
  const a = (n) => el.getAttribute(n) ?? "";
  return `chorus:draft:${el.localName}:${a("site")}:${a("service")}:${a("instrument")}:${el.id}`;
}

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

// A question's radios in `root`, in the order of its answers (PRERENDER.items).
const radiosOf = (root, item) => [...root.querySelectorAll(`input[type=radio][name="q-${item}"]`)];

// What the first screen holds: {item: option id or text}.
function answersOf(screen) {
  const out = {};
  for (const [item, options] of Object.entries(PRERENDER.items)) {
    const i = radiosOf(screen, item).findIndex((r) => r.checked);
    if (i >= 0 && options[i]) out[item] = options[i];
  }
  for (const t of screen.querySelectorAll("textarea[id^='q-']")) if (t.value) out[t.id.slice(2)] = t.value;
  return out;
}

// Draw the first screen into `box`, with any kept draft on it; keep what the patient does. Returns
// a function that hands it all to the app's screen (answers, text, focus, a press of Send) and
// takes it away, or null when there is a kept draft past the first page (the app knows best).
function drawFirstScreen(el, lang, box) {
  const store = storage();
  const key = draftKey(el);
  let kept = null;
  try {
    kept = JSON.parse(store?.getItem(key) ?? "null");
  } catch {}
  if (kept && (kept.v !== PRERENDER.version || kept.p !== 0)) return null;
  box.replaceChildren(...PRERENDER[lang].map(build));
  box.setAttribute("data-chorus-prerender", "");
  for (const [item, options] of Object.entries(PRERENDER.items)) {
    radiosOf(box, item).forEach((r, i) => {
      if (kept?.a?.[item] === options[i]) r.checked = true;
    });
  }
  for (const t of box.querySelectorAll("textarea[id^='q-']")) {
    const v = kept?.a?.[t.id.slice(2)];
    if (typeof v === "string") t.value = v;
  }
  const keep = () => {
    try {
      store?.setItem(key, JSON.stringify({ p: 0, v: PRERENDER.version, a: answersOf(box) }));
    } catch {}
  };
  box.addEventListener("change", keep);
  box.addEventListener("input", keep);
  let sendPressed = false;
  box.addEventListener("submit", (e) => {
    e.preventDefault();
    sendPressed = true;
  });
  return (app, shadow) => {
    const focused = shadow.activeElement && box.contains(shadow.activeElement) ? shadow.activeElement : null;
    const answers = answersOf(box);
    for (const [item, options] of Object.entries(PRERENDER.items)) {
      const i = options.indexOf(answers[item]);
      const twin = i >= 0 && radiosOf(app, item)[i];
      if (twin && !twin.checked) twin.click();
    }
    for (const t of app.querySelectorAll("textarea[id^='q-']")) {
      const v = answers[t.id.slice(2)];
      if (v !== undefined && t.value !== v) {
        t.value = v;
        t.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText" }));
      }
    }
    // One step, no frame between: the first screen goes as the app's identical one appears.
    box.remove();
    app.hidden = false;
    if (focused && focused.id) {
      const twin = app.querySelector(`#${CSS.escape(focused.id)}`);
      if (twin) {
        twin.focus({ preventScroll: true });
        if (twin.setSelectionRange && focused.selectionStart != null) twin.setSelectionRange(focused.selectionStart, focused.selectionEnd);
      }
    }
    if (sendPressed) app.querySelector("button[type=submit]")?.click();
  };
}

// Resolves once the app has drawn its form into `app` (at once, for the built-in FFT).
function drawn(app) {
  if (app.querySelector("form")) return Promise.resolve();
  return new Promise((resolve) => {
    const o = new MutationObserver(() => {
      if (app.querySelector("form")) {
        o.disconnect();
        resolve();
      }
    });
    o.observe(app, { childList: true, subtree: true });
    // Whatever the app drew instead (an error, say) is shown rather than kept waiting.
    setTimeout(() => {
      o.disconnect();
      resolve();
    }, 3000);
  });
}

// Constructable stylesheets reach the shadow root with no inline style attribute and no
// second request, so the widget works under `style-src 'self'`.
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    // The app's screen waits hidden while the first screen is on show.
    sheet.replaceSync(`${css}.chorus-app[hidden]{display:none!important}`);
  }
  return sheet;
}

// The same choice of language the widget makes (an explicit locale, else the page's lang, else
// the browser's; the Arabic machine draft only by an explicit locale, so an Arabic page fetches
// nothing it would not show).
function language(el) {
  const attr = el.getAttribute("locale");
  const tag = (attr ?? ((el.closest("[lang]") || {}).lang || navigator.language || "")).split(/[-_]/)[0].toLowerCase();
  return tag === "cy" || ((tag !== "ar" || attr !== null) && Object.hasOwn(LOCALES, tag)) ? tag : "en";
}

// A locale beyond the bundle's, fetched once per page and only when a widget asks for it,
// checked against the hash this script carries (as the module is). If it cannot be had, the
// widget is shown in English: never resolves to a failure.
function localeStrings(tag) {
  if (!Object.hasOwn(LOCALES, tag)) return Promise.resolve();
  if (!fetchedLocales[tag]) {
    const [file, integrity] = LOCALES[tag];
    fetchedLocales[tag] = fetch(new URL(file, base), { integrity, credentials: "same-origin", mode: "cors" })
      .then((r) => {
        if (!r.ok) throw new Error(`${r.url} answered ${r.status}`);
        return r.json();
      })
      .then((words) =>
        boot().then(() => {
          if (!wasm_bindgen.add_locale(words)) throw new Error(`${file} is not a Chorus locale file`);
        }),
      )
      .catch((err) => console.info(`Chorus: the "${tag}" words could not be loaded, so the widget is shown in English.`, err));
  }
  return fetchedLocales[tag];
}

// In a draft locale, text still in English (no draft yet) is marked lang="en" dir="ltr", so a
// screen reader reads it in an English voice and its punctuation is not mirrored.
function markEnglish(root) {
  for (const el of root.querySelectorAll("[data-chorus-en]")) {
    el.removeAttribute("lang");
    el.removeAttribute("dir");
    el.removeAttribute("data-chorus-en");
  }
  const missed = wasm_bindgen.untranslated().split("\n").filter(Boolean);
  if (!missed.length) return;
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (el && el !== root && !el.hasAttribute("lang") && missed.some((m) => n.data.includes(m))) {
      el.setAttribute("lang", "en");
      el.setAttribute("dir", "ltr");
      el.setAttribute("data-chorus-en", "");
    }
  }
}

class ChorusElement extends HTMLElement {
  static get observedAttributes() {
    return ["locale"];
  }

  connectedCallback() {
    if (this._chorus) return;
    const shadow = this.shadowRoot || this.attachShadow({ mode: "open" });
    shadow.adoptedStyleSheets = [styles()];
    // The element's own children (say, a link to a paper form) stay visible until the widget
    // has started, and come back if it cannot: never a blank space.
    const fallback = document.createElement("slot");
    const root = document.createElement("div");
    root.setAttribute("part", "root");
    root.className = "chorus-root";
    // The app's own box: the root resets what the page pushes in, the app sizes from it.
    let app = document.createElement("div");
    app.className = "chorus-app";
    root.append(app);
    shadow.replaceChildren(fallback, root);
    const state = (this._chorus = { handle: null, gone: false, observer: null });
    // The standard FFT is drawn at once; the app takes it over when it starts (see above).
    const lang = language(this);
    let takeOver = null;
    if (prerenderable(this, lang)) {
      takeOver = drawFirstScreen(this, lang, app);
      if (takeOver) {
        root.setAttribute("lang", lang);
        root.setAttribute("dir", "ltr");
        fallback.remove();
        const first = app;
        app = document.createElement("div");
        app.className = "chorus-app";
        app.hidden = true;
        root.append(app);
        state.first = first;
      }
    }
    const failed = (err) => {
      if (state.gone) return;
      console.error(
        "Chorus could not start, so the element's own content is shown instead. Check that the page's Content-Security-Policy allows 'wasm-unsafe-eval' in script-src and the bundle's origin in connect-src, and that the bundle's files are all from the same release.",
        err,
      );
      const lang = Object.hasOwn(FAILED, language(this)) ? language(this) : "en";
      const p = document.createElement("p");
      p.className = "chorus-load-failed";
      p.textContent = FAILED[lang];
      root.setAttribute("lang", lang);
      root.setAttribute("dir", lang === "ar" ? "rtl" : "ltr");
      if (state.first) state.first.remove();
      app.hidden = false;
      app.replaceChildren(p);
      // The apology first, then the web team's own content.
      shadow.append(fallback);
      this.dispatchEvent(new CustomEvent("chorus:error", { bubbles: true, composed: true, detail: { code: "load_failed" } }));
    };
    // Both at once: the module and, if this element's language is not in the bundle, its words.
    const words = localeStrings(lang);
    boot().then(() => words).then(async () => {
      if (state.gone) return;
      try {
        state.handle = wasm_bindgen.mount(this.localName, app, this);
      } catch (err) {
        failed(err);
        return;
      }
      fallback.remove();
      if (takeOver) {
        await drawn(app);
        if (state.gone) return;
        takeOver(app, shadow);
        state.first = null;
      }
      // A locale fetched on demand (a draft): mark what is still English.
      if (!["en", "cy"].includes(root.getAttribute("lang"))) {
        markEnglish(root);
        state.observer = new MutationObserver(() => markEnglish(root));
        state.observer.observe(root, { childList: true, subtree: true, characterData: true });
      }
    }, failed);
  }

  disconnectedCallback() {
    const state = this._chorus;
    if (!state) return;
    state.gone = true;
    if (state.observer) state.observer.disconnect();
    if (state.handle) state.handle.destroy();
    this._chorus = null;
  }

  // A new locale after the widget has started: start it again in that language.
  attributeChangedCallback(name, before, now) {
    if (this._chorus && before !== now) {
      this.disconnectedCallback();
      this.connectedCallback();
    }
  }
}

for (const tag of ["chorus-fft", "chorus-form", "chorus-decision-aid", "chorus-results"]) {
  if (!customElements.get(tag)) customElements.define(tag, class extends ChorusElement {});
}
