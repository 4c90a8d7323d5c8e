// Chorus loader: defines <chorus-fft>, <chorus-form> and <chorus-decision-aid> as custom elements.
// `cargo xtask dist` wraps this file, together with wasm-bindgen's no-modules glue, in one
// function scope so nothing leaks onto the host page; the __CHORUS_…__ names are filled in then.
// It is a classic script so that `document.currentScript` tells us where the bundle lives and
// the web team's one <script src integrity> tag covers all the JavaScript.
const base = document.currentScript && document.currentScript.src ? document.currentScript.src : location.href;
const wasmUrl = new URL(__CHORUS_WASM__, base);
const wasmIntegrity = __CHORUS_WASM_SRI__;
const css = __CHORUS_CSS__;
let sheet = null;
let ready = null;

// One fetch and one compile for every widget on the page; the hash pins the exact module.
function boot() {
  if (!ready) {
    ready = wasm_bindgen({
      module_or_path: fetch(wasmUrl, { integrity: wasmIntegrity, credentials: "omit", mode: "cors" }),
    });
  }
  return ready;
}

// Constructable stylesheets reach the shadow root with no inline style attribute and no
// second request, so the widget works under `style-src 'self'`.
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  return sheet;
}

class ChorusElement extends HTMLElement {
  connectedCallback() {
    if (this._chorus) return;
    const shadow = this.shadowRoot || this.attachShadow({ mode: "open" });
    shadow.adoptedStyleSheets = [styles()];
    const root = document.createElement("div");
    root.setAttribute("part", "root");
    shadow.replaceChildren(root);
    const state = (this._chorus = { handle: null, gone: false });
    boot().then(
      () => {
        if (!state.gone) state.handle = wasm_bindgen.mount(this.localName, root, this);
      },
      (err) => {
        console.error("Chorus could not start", err);
        this.dispatchEvent(new CustomEvent("chorus:error", { bubbles: true, composed: true, detail: { code: "load_failed" } }));
      },
    );
  }

  disconnectedCallback() {
    const state = this._chorus;
    if (!state) return;
    state.gone = true;
    if (state.handle) state.handle.destroy();
    this._chorus = null;
  }
}

for (const tag of ["chorus-fft", "chorus-form", "chorus-decision-aid"]) {
  if (!customElements.get(tag)) customElements.define(tag, class extends ChorusElement {});
}
