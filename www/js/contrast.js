// WCAG 2.x contrast: relative luminance of sRGB colours and the (L1 + 0.05) / (L2 + 0.05) ratio.

/** 0–255 channel → linear light, as WCAG 2.x defines it. */
function linear(channel) {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Relative luminance of [r, g, b] (0–255 each). */
export function luminance([r, g, b]) {
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** Contrast ratio between two colours, from 1 to 21. */
export function contrast(a, b) {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Show a ratio the way WCAG quotes it: rounded down to two decimals, so 4.499 is not "4.5". */
export function formatRatio(ratio) {
  return `${(Math.floor(ratio * 100) / 100).toFixed(2)}:1`;
}

/**
 * Any CSS colour the browser understands → [r, g, b] (0–255), or null. Uses a hidden probe
 * element in `doc` and the browser's own parser (set through CSSOM, so it works under a
 * strict Content-Security-Policy). Transparent parts are laid over `over` (default white).
 */
export function parseColour(value, doc = document, over = [255, 255, 255]) {
  if (!value || !CSS.supports("color", value)) return null;
  let probe = doc.getElementById("chorus-colour-probe");
  if (!probe) {
    probe = doc.createElement("span");
    probe.id = "chorus-colour-probe";
    probe.hidden = true;
    doc.body.append(probe);
  }
  probe.style.setProperty("color", value);
  const m = getComputedStyle(probe).color.match(/^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/);
  if (!m) return null;
  let alpha = m[4] === undefined ? 1 : m[4].endsWith("%") ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
  alpha = Math.min(1, Math.max(0, alpha));
  return [1, 2, 3].map((i, k) => Math.round(parseFloat(m[i]) * alpha + over[k] * (1 - alpha)));
}

/** "#rrggbb" for an [r, g, b] triple (for <input type="color">). */
export function toHex(rgb) {
  return `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}
