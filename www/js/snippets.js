// Snippet builder: reads this server's instrument list and bundle manifest, and writes the HTML
// a web team pastes (an optional preload hint for the wasm module, the script tag with SRI, the
// element) and the CSP sources it needs.

const $ = (id) => document.getElementById(id);
const state = { instruments: [], integrity: null, entry: "chorus.js", wasm: null };

/** Text safe inside an HTML attribute value. */
function attr(value) {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function tagFor(instrument) {
  if (!instrument) return "chorus-fft";
  if (instrument.scoring === "fft") return "chorus-fft";
  if (instrument.scoring === "decision_aid") return "chorus-decision-aid";
  return "chorus-form";
}

function showError(field, message) {
  const input = $(field);
  const error = $(`${field}-error`);
  error.hidden = !message;
  error.textContent = message ? `Error: ${message}` : "";
  if (message) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${field}-error ${field}-hint`);
  } else {
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", `${field}-hint`);
  }
  return !message;
}

/** scheme://host[:port] from what was typed, or null. */
function originOf(text) {
  try {
    const u = new URL(text.trim());
    if (u.protocol !== "https:" && u.protocol !== "http:") return null;
    return u.origin;
  } catch {
    return null;
  }
}

function build() {
  const id = $("instrument").value;
  const instrument = state.instruments.find((i) => i.id === id);
  const tag = tagFor(instrument);
  $("send-field").hidden = tag !== "chorus-decision-aid";
  $("variant-note").hidden = !(tag === "chorus-fft" && id !== "fft");
  const origin = originOf($("origin").value);
  let ok = showError("origin", origin ? "" : "Enter the server's address, starting with https://");
  const site = $("site").value.trim();
  ok = showError("site", site ? "" : "Enter your site id") && ok;
  const service = $("service").value.trim();
  ok = showError("service", service.length > 64 ? "A service id is at most 64 characters" : "") && ok;
  if (!ok) {
    $("snippet").textContent = "Correct the errors above to see your snippet.";
    $("csp").textContent = "";
    return;
  }
  const integrity = state.integrity ? ` integrity="${attr(state.integrity)}"` : "";
  const attrs = [`endpoint="${attr(origin)}"`, `site="${attr(site)}"`];
  if (service) attrs.push(`service="${attr(service)}"`);
  if (id && !(tag === "chorus-fft" && id === "fft")) attrs.push(`instrument="${attr(id)}"`);
  const locale = $("locale").value;
  if (locale) attrs.push(`locale="${locale}"`);
  if (tag === "chorus-decision-aid" && $("send").checked) attrs.push("send");
  // The module's download starts with the page instead of after chorus.js has run. No integrity
  // attribute: browsers ignore it on a fetch preload (and say so in the console); the loader's
  // own fetch checks the module's hash on the preloaded bytes.
  const preload =
    state.wasm && $("preload").checked
      ? `<link rel="preload" href="${attr(origin)}/embed/${attr(state.wasm)}" as="fetch" crossorigin="anonymous">\n`
      : "";
  $("preload-field").hidden = !state.wasm;
  $("snippet").textContent =
    preload +
    `<script src="${attr(origin)}/embed/${state.entry}"${integrity} crossorigin="anonymous" defer></script>\n` +
    `<${tag} ${attrs.join(" ")}></${tag}>`;
  $("csp").textContent = `script-src ${origin} 'wasm-unsafe-eval';\nconnect-src ${origin};`;
}

async function copy(source, status) {
  $(status).textContent = "";
  try {
    await navigator.clipboard.writeText($(source).textContent);
    $(status).textContent = "Copied.";
  } catch {
    getSelection().selectAllChildren($(source));
    $(status).textContent = "Your browser did not let us copy. The text is selected: press Ctrl+C (or Cmd+C) to copy it.";
  }
}

async function load() {
  $("origin").value = location.origin;
  const select = $("instrument");
  try {
    const res = await fetch("/api/v1/instruments");
    if (!res.ok) throw new Error(res.status);
    state.instruments = await res.json();
  } catch {
    state.instruments = [{ id: "fft", scoring: "fft", title: { en: "Friends and Family Test" } }];
  }
  const groups = [["fft", "Friends and Family Test"], ["form", "Feedback forms and measures"], ["decision_aid", "Decision aids"]];
  for (const [key, label] of groups) {
    const og = document.createElement("optgroup");
    og.label = label;
    for (const i of state.instruments) {
      const k = i.scoring === "fft" || i.scoring === "decision_aid" ? i.scoring : "form";
      if (k !== key) continue;
      const o = document.createElement("option");
      o.value = i.id;
      o.textContent = `${i.title.en} (${i.id})`;
      og.append(o);
    }
    if (og.children.length) select.append(og);
  }
  select.value = "fft";
  try {
    const res = await fetch("/embed/manifest.json");
    if (!res.ok) throw new Error(res.status);
    const manifest = await res.json();
    state.entry = manifest.entry;
    state.integrity = manifest.files.find((f) => f.file === manifest.entry)?.integrity ?? null;
    state.wasm = typeof manifest.wasm === "string" && /^[\w.-]+\.wasm$/.test(manifest.wasm) ? manifest.wasm : null;
    $("manifest-status").textContent = `This server's bundle: Chorus ${manifest.version}, ${state.entry} ${state.integrity}.`;
  } catch {
    $("manifest-status").textContent = "Could not read this server's bundle manifest (/embed/manifest.json), so the snippet has no integrity hash yet.";
  }
  build();
}

$("builder").addEventListener("input", build);
$("builder").addEventListener("change", build);
$("builder").addEventListener("submit", (e) => e.preventDefault());
$("copy-snippet").addEventListener("click", () => copy("snippet", "snippet-status"));
$("copy-csp").addEventListener("click", () => copy("csp", "csp-status"));
load();
