// Every design token the Chorus widgets read, with its default and an example value.
// The playground builds its controls from this list; docs/designers.html documents the same
// tokens, and tests/e2e/www.test.mjs fails if crates/widgets/css/chorus.css uses a token that
// is missing from either.
// The tokens, their groups and the presets come from crates/widgets/tokens.json (written into
// tokens-data.js by `cargo xtask tokens`), the one source the widget's stylesheet and the
// designers' page are generated from too.
export { TOKENS, GROUPS, PRESETS } from "./tokens-data.js";

// Colour pairs checked against WCAG 2.x AA. A pair names a token or a fixed colour.
export const PAIRS = [
  { label: "Body text on background", fg: "--chorus-colour-text", bg: "--chorus-colour-background", min: 4.5 },
  { label: "Hint text on background", fg: "--chorus-colour-secondary-text", bg: "--chorus-colour-background", min: 4.5 },
  { label: "Link text on background", fg: "--chorus-colour-link", bg: "--chorus-colour-background", min: 4.5 },
  { label: "Error text on background", fg: "--chorus-colour-error", bg: "--chorus-colour-background", min: 4.5 },
  { label: "Button text on main button", fg: "--chorus-colour-button-text", bg: "--chorus-colour-button", min: 4.5 },
  { label: "Button text on main button under the pointer", fg: "--chorus-colour-button-text", bg: "--chorus-colour-button-hover", min: 4.5 },
  { label: "Button text on secondary button", fg: "--chorus-colour-button-text", bg: "--chorus-colour-button-secondary", min: 4.5 },
  { label: "Confirmation text on success panel", fg: "--chorus-colour-success-text", bg: "--chorus-colour-success", min: 4.5 },
  { label: "Focused text on focus highlight", fg: "--chorus-colour-focus-text", bg: "--chorus-colour-focus", min: 4.5 },
  { label: "Focus edge on background (user interface)", fg: "--chorus-colour-focus-text", bg: "--chorus-colour-background", min: 3 },
  { label: "Radio and text box edges on background (user interface)", fg: "--chorus-colour-input-border", bg: "--chorus-colour-background", min: 3 },
  { label: "Radio dot and text box edges inside the control (user interface)", fg: "--chorus-colour-input-border", bg: "--chorus-colour-input-background", min: 3 },
  { label: "Error border on background (user interface)", fg: "--chorus-colour-error", bg: "--chorus-colour-background", min: 3 },
  { label: "Icon array squares on background (graphics)", fg: "--chorus-colour-icon", bg: "--chorus-colour-background", min: 3 },
];
