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

// Constructable stylesheets reach the shadow root with no inline style attribute and no
// second request, so the widget works under `style-src 'self'`.
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
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
    const app = document.createElement("div");
    app.className = "chorus-app";
    root.append(app);
    shadow.replaceChildren(fallback, root);
    const state = (this._chorus = { handle: null, gone: false, observer: null });
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
      app.replaceChildren(p);
      // The apology first, then the web team's own content.
      shadow.append(fallback);
      this.dispatchEvent(new CustomEvent("chorus:error", { bubbles: true, composed: true, detail: { code: "load_failed" } }));
    };
    // Both at once: the module and, if this element's language is not in the bundle, its words.
    const words = localeStrings(language(this));
    boot().then(() => words).then(() => {
      if (state.gone) return;
      try {
        state.handle = wasm_bindgen.mount(this.localName, app, this);
      } catch (err) {
        failed(err);
        return;
      }
      fallback.remove();
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
