// Generated from crates/widgets/tokens.json by `cargo xtask tokens`: edit that file, not this one.

export const TOKENS = [
  { name: "--chorus-colour-brand", group: "colour", fallback: "#005eb8", nhsuk: "--nhsuk-brand-colour", example: "#5a2d82", use: "Brand colour: inset panel edge, option-grid dividers on small screens, and links unless the link token is set." },
  { name: "--chorus-colour-text", group: "colour", fallback: "#212b32", nhsuk: "--nhsuk-text-colour", example: "#0b0c0c", use: "Body text." },
  { name: "--chorus-colour-secondary-text", group: "colour", fallback: "#4c6272", nhsuk: "--nhsuk-secondary-text-colour", example: "#505a5f", use: "Hints and captions." },
  { name: "--chorus-colour-background", group: "colour", fallback: "#ffffff", nhsuk: "--nhsuk-body-background-colour", example: "#f0f4f5", use: "The widget's own surface, painted behind all of it and inside inset panels. Painted by default so the widget stays readable on a dark page; on an NHS.UK frontend page it matches the page. Transparent lets the page show through (then the page colour below must pass)." },
  { name: "--chorus-colour-input-background", group: "colour", fallback: "#ffffff", nhsuk: "--nhsuk-input-background-colour", example: "#ffffff", use: "Inside radio circles, checkboxes and text boxes." },
  { name: "--chorus-colour-border", group: "colour", fallback: "#d8dde0", nhsuk: "--nhsuk-grey-4-colour", example: "#b1b4b6", use: "Dividing lines in summary lists and the option grid." },
  { name: "--chorus-colour-input-border", group: "colour", fallback: "#4c6272", nhsuk: "--nhsuk-grey-1-colour", example: "#0b0c0c", use: "Edges of radios, checkboxes and text boxes, and the dot of a chosen radio." },
  { name: "--chorus-colour-focus", group: "colour", fallback: "#ffeb3b", nhsuk: "--nhsuk-focus-colour", example: "#ffdd00", use: "Focus highlight behind the focused control." },
  { name: "--chorus-colour-focus-text", group: "colour", fallback: "#212b32", nhsuk: "--nhsuk-focus-text-colour", example: "#0b0c0c", use: "Text and the thick bottom edge of a focused control." },
  { name: "--chorus-colour-error", group: "colour", fallback: "#d5281b", nhsuk: "--nhsuk-error-colour", example: "#b10e1e", use: "Error summary border, error messages and the red edge of a question with an error." },
  { name: "--chorus-colour-link", group: "colour", fallback: "var(--chorus-colour-brand)", example: "#1d70b8", use: "Links and link-style buttons (Back, Change). Defaults to the brand colour." },
  { name: "--chorus-colour-icon", group: "colour", fallback: "var(--chorus-colour-brand)", example: "#330072", use: "Icon arrays in decision aids: the filled squares (people who have the outcome) and the outline of the empty ones. Defaults to the brand colour; keep 3:1 against the background." },
  { name: "--chorus-colour-button", group: "colour", fallback: "#007f3b", example: "#00703c", use: "Main button (Send, Continue)." },
  { name: "--chorus-colour-button-text", group: "colour", fallback: "#ffffff", example: "#0b0c0c", use: "Text on the main and secondary buttons: dark text lets a light brand button pass AA." },
  { name: "--chorus-colour-button-hover", group: "colour", fallback: "#00662f", example: "#005a30", use: "Main button under the mouse pointer." },
  { name: "--chorus-colour-button-shadow", group: "colour", fallback: "#00401e", example: "#002d18", use: "The solid shadow under the main button." },
  { name: "--chorus-colour-button-secondary", group: "colour", fallback: "#4c6272", example: "#505a5f", use: "Secondary buttons (Print, Save)." },
  { name: "--chorus-colour-button-secondary-hover", group: "colour", fallback: "#384853", example: "#3d4448", use: "Secondary button under the mouse pointer." },
  { name: "--chorus-colour-button-secondary-shadow", group: "colour", fallback: "#263139", example: "#25292b", use: "The solid shadow under secondary buttons." },
  { name: "--chorus-colour-success", group: "colour", fallback: "#007f3b", example: "#00703c", use: "Background of the \"sent\" confirmation panel." },
  { name: "--chorus-colour-success-text", group: "colour", fallback: "#ffffff", example: "#ffffff", use: "Text on the \"sent\" confirmation panel." },
  { name: "--chorus-font-family", group: "type", fallback: "\"Frutiger W01\", Arial, sans-serif", example: "\"Trust Sans\", Verdana, sans-serif", use: "Font stack. The widget loads no fonts: name one your page already loads." },
  { name: "--chorus-font-size", group: "type", fallback: "1em", example: "1.125em", use: "Base text size, in em of the reader's own browser text size; headings and buttons scale from it." },
  { name: "--chorus-space", group: "shape", fallback: "1em", example: "0.75em", use: "Spacing unit between questions, inside panels and around actions, in em so it grows with the text." },
  { name: "--chorus-radius", group: "shape", fallback: "4px", example: "0", use: "Corner rounding of buttons." },
  { name: "--chorus-focus-width", group: "shape", fallback: "4px", example: "6px", use: "Thickness of focus outlines and focus rings." },
  { name: "--chorus-border-width", group: "shape", fallback: "2px", example: "3px", use: "Thickness of the edges of radios, checkboxes and text boxes." },
  { name: "--chorus-error-width", group: "shape", fallback: "4px", example: "6px", use: "Thickness of the red edge of the error summary and of a question with an error." },
  { name: "--chorus-inset-width", group: "shape", fallback: "8px", example: "4px", use: "Thickness of the brand-coloured edge of inset panels." },
  { name: "--chorus-kiosk-target", group: "shape", fallback: "64px", example: "72px", use: "Kiosk mode (the kiosk attribute): the size of radios, checkboxes and buttons, for fingers on a tablet." },
];

export const GROUPS = [
  { id: "colour", title: "Colours" },
  { id: "type", title: "Type" },
  { id: "shape", title: "Space and shape" },
];

// Starting points. "NHS default" clears every token, so the widget falls back to NHS.UK
// frontend's custom properties (or the NHS.UK palette).
export const PRESETS = {
  "compact": { label: "Compact", values: { "--chorus-font-size": "0.9375em", "--chorus-space": "0.75em" } },
  "high-contrast": { label: "High contrast", values: { "--chorus-colour-background": "#ffffff", "--chorus-colour-border": "#000000", "--chorus-colour-brand": "#002f5c", "--chorus-colour-button": "#000000", "--chorus-colour-button-hover": "#333333", "--chorus-colour-button-shadow": "#595959", "--chorus-colour-input-background": "#ffffff", "--chorus-colour-input-border": "#000000", "--chorus-colour-link": "#002f5c", "--chorus-colour-secondary-text": "#000000", "--chorus-colour-text": "#000000", "--chorus-focus-width": "6px", "--chorus-font-size": "1.1875em" } },
  "nhs": { label: "NHS default", values: {  } },
  "trust": { label: "Trust brand (example: Riverside Community Health)", values: { "--chorus-colour-brand": "#5a2d82", "--chorus-colour-button": "#5a2d82", "--chorus-colour-button-hover": "#47236a", "--chorus-colour-button-shadow": "#2d1642", "--chorus-colour-link": "#5a2d82", "--chorus-colour-success": "#1e6b52", "--chorus-font-family": "Verdana, Geneva, sans-serif", "--chorus-radius": "0" } },
};
