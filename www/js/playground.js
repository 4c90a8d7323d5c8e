// Theme playground: a control per design token, applied to the preview widgets through CSSOM
// (element.style.setProperty), so the page needs no inline style and works under a strict
// Content-Security-Policy.
import { GROUPS, PAIRS, PRESETS, TOKENS } from "./tokens.js";
import { contrast, formatRatio, parseColour, toHex } from "./contrast.js";

const WIDGETS = "chorus-fft, chorus-form, chorus-decision-aid";
const byName = new Map(TOKENS.map((t) => [t.name, t]));
const controls = document.getElementById("token-controls");
const output = document.getElementById("css-output");
const summary = document.getElementById("contrast-summary");
const tbody = document.querySelector("#contrast-table tbody");
const page = document.getElementById("page-colour");
const pagePick = document.getElementById("page-colour-pick");
const preview = document.querySelector(".playground__preview");
const warning = document.getElementById("background-warning");
const BACKGROUND = "--chorus-colour-background";

/** The designer's page colour (white until they choose one), shown behind the preview. */
function pageColour() {
  const value = page.value.trim();
  const rgb = value === "" ? [255, 255, 255] : parseColour(value);
  const error = document.getElementById("page-colour-error");
  error.hidden = value === "" || rgb !== null;
  error.textContent = error.hidden ? "" : `Error: ${MESSAGES.color}. White is used until then.`;
  if (error.hidden) page.removeAttribute("aria-invalid");
  else page.setAttribute("aria-invalid", "true");
  page.setAttribute("aria-describedby", error.hidden ? "page-colour-hint" : "page-colour-error page-colour-hint");
  const colour = rgb ?? [255, 255, 255];
  preview.style.setProperty("background-color", toHex(colour));
  pagePick.value = toHex(colour);
  return colour;
}

/** The property a token's value is checked against before it is applied. */
function checkProperty(token) {
  if (token.group === "colour") return "color";
  return { "--chorus-font-family": "font-family", "--chorus-font-size": "font-size", "--chorus-radius": "border-radius", "--chorus-focus-width": "outline-width" }[token.name] ?? "padding";
}

const MESSAGES = {
  color: "Enter a CSS colour, like #005eb8 or rgb(0, 94, 184)",
  "font-family": "Enter a font stack, like Arial, sans-serif",
  "font-size": "Enter a size, like 1rem or 18px",
  "border-radius": "Enter a length, like 4px or 0",
  "outline-width": "Enter a width, like 4px",
  padding: "Enter a length, like 1rem or 16px",
};

function idFor(name) {
  return `t${name.slice("--chorus".length)}`;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function code(text) {
  return el("code", { text });
}

function buildControls() {
  for (const group of GROUPS) {
    const fs = el("fieldset", { class: "token-group" }, el("legend", { text: group.title }));
    for (const t of TOKENS.filter((x) => x.group === group.id)) {
      const id = idFor(t.name);
      const hint = el("p", { class: "field__hint", id: `${id}-hint` }, `${t.use} Default: `, code(t.fallback));
      if (t.nhsuk) hint.append(" (or the page's ", code(t.nhsuk), ")");
      hint.append(".");
      const error = el("p", { class: "field__error", id: `${id}-error` });
      error.hidden = true;
      const input = el("input", { type: "text", id, name: t.name, "aria-describedby": `${id}-hint`, autocomplete: "off", spellcheck: "false", "data-token": t.name });
      const inputs = el("div", { class: "token__inputs" }, input);
      if (t.group === "colour") {
        const pick = el("input", { type: "color", id: `${id}-pick`, class: "swatch-input", "aria-label": `Pick a colour for ${t.name}`, "data-pick": t.name });
        pick.addEventListener("input", () => {
          input.value = pick.value;
          update();
        });
        inputs.append(pick);
      }
      input.addEventListener("input", update);
      fs.append(el("div", { class: "field token", "data-token-field": t.name }, el("label", { for: id }, code(t.name)), hint, error, inputs));
    }
    controls.append(fs);
  }
  const presets = document.getElementById("presets");
  for (const [key, preset] of Object.entries(PRESETS)) {
    const b = el("button", { type: "button", class: "button button--secondary", "data-preset": key, text: preset.label });
    b.addEventListener("click", () => applyPreset(key));
    presets.append(b);
  }
}

function applyPreset(key) {
  const values = PRESETS[key].values;
  for (const input of controls.querySelectorAll("input[data-token]")) input.value = values[input.name] ?? "";
  update();
}

/** The values the designer has set that the browser accepts, in token order. */
function chosen() {
  const out = [];
  for (const t of TOKENS) {
    const input = document.getElementById(idFor(t.name));
    const error = document.getElementById(`${idFor(t.name)}-error`);
    const value = input.value.trim();
    const prop = checkProperty(t);
    const ok = value === "" || CSS.supports(prop, value);
    error.hidden = ok;
    error.textContent = ok ? "" : `Error: ${MESSAGES[prop]}. The default is used until then.`;
    if (ok) input.removeAttribute("aria-invalid");
    else input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", ok ? `${idFor(t.name)}-hint` : `${idFor(t.name)}-error ${idFor(t.name)}-hint`);
    if (value !== "" && ok) out.push([t.name, value]);
  }
  return out;
}

/** A token's value as the widgets will use it (following var() to other tokens). */
function effective(name, values, depth = 0) {
  if (name.startsWith("#")) return name;
  if (values.has(name)) return values.get(name);
  const t = byName.get(name);
  const m = t.fallback.match(/^var\((--chorus-[a-z0-9-]+)\)$/);
  if (m && depth < 4) return effective(m[1], values, depth + 1);
  // The widget's own default, as resolved on the page (NHS.UK frontend properties included).
  const probe = document.querySelector("chorus-fft");
  const resolved = probe && getComputedStyle(probe).getPropertyValue(name).trim();
  return resolved || t.fallback;
}

function renderContrast(values) {
  tbody.replaceChildren();
  let fails = 0;
  let unknown = 0;
  const under = pageColour();
  // A see-through widget background shows the page: it looks different over black and white.
  const bgToken = effective(BACKGROUND, values);
  const overWhite = parseColour(bgToken, document, [255, 255, 255]);
  const overBlack = parseColour(bgToken, document, [0, 0, 0]);
  let failsOnSurface = false;
  const seeThrough = overWhite && overBlack && overWhite.some((c, i) => c !== overBlack[i]);
  for (const p of PAIRS) {
    const fgValue = effective(p.fg, values);
    const bgValue = effective(p.bg, values);
    // Each background is laid over the widget's own, and that over the page colour.
    const surface = parseColour(bgToken, document, under) ?? under;
    const bg = parseColour(bgValue, document, p.bg === BACKGROUND ? under : surface);
    const fg = parseColour(fgValue, document, bg ?? [255, 255, 255]);
    const colours = el("td", { "data-label": "Colours" });
    for (const [label, value, rgb] of [["text", fgValue, fg], ["on", bgValue, bg]]) {
      const sw = el("span", { class: "swatch", "aria-hidden": "true" });
      if (rgb) sw.style.setProperty("background-color", toHex(rgb));
      colours.append(label === "on" ? " on " : "", sw, code(value));
    }
    let ratio = "—";
    let result;
    if (fg && bg) {
      const r = contrast(fg, bg);
      ratio = formatRatio(r);
      const pass = Math.floor(r * 100) / 100 >= p.min;
      if (!pass) fails++;
      if (!pass && p.bg === BACKGROUND) failsOnSurface = true;
      result = el("strong", { class: pass ? "result result--pass" : "result result--fail", text: pass ? "✓ Pass" : "✗ Fails AA" });
    } else {
      unknown++;
      result = el("strong", { class: "result", text: "Cannot check this colour" });
    }
    tbody.append(el("tr", { "data-pair": p.label },
      el("th", { scope: "row" }, p.label),
      colours,
      el("td", { "data-label": "Ratio", class: "ratio", text: ratio }),
      el("td", { "data-label": "AA needs", text: `${p.min}:1` }),
      el("td", { "data-label": "Result" }, result)));
  }
  const text = fails === 0 && unknown === 0
    ? `All ${PAIRS.length} colour pairs pass WCAG AA.`
    : `${fails} of ${PAIRS.length} colour pairs fail WCAG AA${unknown ? `; ${unknown} could not be checked` : ""}.`;
  if (summary.textContent !== text) summary.textContent = text;
  const failsOnPage = seeThrough && failsOnSurface;
  const note = !seeThrough
    ? ""
    : failsOnPage
      ? `Warning: --chorus-colour-background is see-through, so your page colour ${toHex(under)} shows through the widget, and some text fails against it. Choose a solid background, or a page colour that passes.`
      : `--chorus-colour-background is see-through: the pairs above are checked against your page colour ${toHex(under)}. Check every page the widget appears on.`;
  if (warning.textContent !== note) warning.textContent = note;
  warning.classList.toggle("result--fail", failsOnPage);
}

function renderCss(list) {
  const lines = list.map(([name, value]) => `  ${name}: ${value};`);
  output.textContent = lines.length
    ? `/* Chorus theme: paste into your site's stylesheet. */\n${WIDGETS} {\n${lines.join("\n")}\n}\n`
    : "/* Every token is at its default: no CSS needed. */\n";
}

function update() {
  const list = chosen();
  const values = new Map(list);
  for (const w of document.querySelectorAll(".playground__preview :is(chorus-fft, chorus-form, chorus-decision-aid)")) {
    for (const t of TOKENS) {
      if (values.has(t.name)) w.style.setProperty(t.name, values.get(t.name));
      else w.style.removeProperty(t.name);
    }
  }
  // Keep each colour picker showing the colour in use.
  for (const pick of controls.querySelectorAll("input[data-pick]")) {
    const rgb = parseColour(effective(pick.dataset.pick, values));
    if (rgb) pick.value = toHex(rgb);
  }
  renderContrast(values);
  renderCss(list);
}

document.getElementById("copy-css").addEventListener("click", async () => {
  const status = document.getElementById("copy-status");
  status.textContent = "";
  try {
    await navigator.clipboard.writeText(output.textContent);
    status.textContent = "CSS copied. Paste it into your stylesheet.";
  } catch {
    getSelection().selectAllChildren(output);
    status.textContent = "Your browser did not let us copy. The CSS is selected: press Ctrl+C (or Cmd+C) to copy it.";
  }
});

page.addEventListener("input", update);
pagePick.addEventListener("input", () => {
  page.value = pagePick.value;
  update();
});
buildControls();
update();
// Defaults resolve once the widget's stylesheet is adopted; refresh the pickers and checks then.
customElements.whenDefined("chorus-fft").then(update);
