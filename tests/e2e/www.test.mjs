// The demo site, the theme playground, the snippet builder and the docs (www/): every page
// loads with no error, no CSP violation and no axe (WCAG 2.2 A/AA) violation, and reflows at
// 320px; every token chorus.css uses is documented and editable; a token changed in the
// playground changes all three widgets; a snippet copied from the builder works when pasted
// into a blank page on another origin under the CSP the builder printed.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { browser, expectNoAxeViolations, server, useServerAndBrowser } from "./support.mjs";

const root = resolve(import.meta.dirname, "../..");
const WIDGETS = ["chorus-fft", "chorus-form", "chorus-decision-aid"];
const PAGES = [
  "/", "/feedback.html", "/decision-aid.html", "/decision-aid-statins.html", "/cy.html", "/csp.html", "/nhsuk.html",
  "/playground.html", "/snippets.html", "/author.html",
  "/docs/web-teams.html", "/docs/designers.html", "/docs/experience-teams.html", "/docs/operators.html", "/docs/api.html",
];
const AXE_HERE = new Set(["/cy.html", "/snippets.html", "/author.html", "/docs/web-teams.html", "/docs/designers.html", "/docs/experience-teams.html", "/docs/operators.html", "/docs/api.html"]);
// Every token the widget stylesheet reads or sets (the bare "--chorus-*" of its comment aside).
const TOKENS = [...new Set(readFileSync(join(root, "crates/widgets/css/chorus.css"), "utf8").match(/--chorus-[a-z][a-z0-9-]*/g))].sort();

useServerAndBrowser();

/** A page that records CSP violations, page errors, console errors and failed requests. */
async function watchedPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) problems.push(`${r.status()} ${r.url()}`);
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, problems };
}

/** Wait until each widget on the page has drawn its first control. */
async function widgetsReady(page) {
  for (const tag of WIDGETS) {
    const n = await page.locator(tag).count();
    for (let i = 0; i < n; i++) await page.locator(tag).nth(i).locator("button, input").first().waitFor({ timeout: 15_000 });
  }
}

test("every page loads cleanly, passes axe, links to the tools and docs, and fits a 320px screen", async () => {
  const wide = await browser.newContext();
  const linked = new Set();
  // One tab visits every page in turn (quicker than a tab each); its findings are reset per page.
  const { page, problems } = await watchedPage(wide);
  for (const path of PAGES) {
    problems.length = 0;
    await page.setViewportSize({ width: 1280, height: 720 });
    const res = await page.goto(`${server.url}${path}`);
    assert.equal(res.status(), 200, path);
    await widgetsReady(page);
    if (path !== "/nhsuk.html") {
      // The shared navigation reaches the tools and every docs page.
      for (const href of ["/playground.html", "/snippets.html", "/author.html", "/docs/web-teams.html", "/docs/designers.html", "/docs/experience-teams.html", "/docs/operators.html", "/docs/api.html"]) {
        assert.equal(await page.locator(`nav a[href="${href}"]`).count(), 1, `${path}: nav link to ${href}`);
      }
      assert.equal(await page.locator('nav a[aria-current="page"]').count(), 1, `${path}: the current page is marked in the nav`);
    }
    // No inline scripts or style attributes in the markup: the pages must work under a strict
    // CSP. (Scripts may still set styles through CSSOM, which a CSP allows.)
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)(?![^>]*type="application\/json")[^>]*>/i, `${path}: inline script`);
    assert.doesNotMatch(html, /<[a-z][^>]*\sstyle\s*=/i, `${path}: style attribute`);
    assert.doesNotMatch(html, /<style[\s>]/i, `${path}: style element`);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${path}: inline event handler`);
    for (const href of await page.locator("a[href^='/']").evaluateAll((as) => as.map((a) => a.getAttribute("href")))) linked.add(href.split("#")[0]);
    // axe on the pages whose markup is new here (the widgets have their own axe tests; the
    // playground is checked in its own test, after a preset; cy.html has the Welsh nav).
    if (AXE_HERE.has(path)) await expectNoAxeViolations(page, path, { minPasses: 10 });
    assert.deepEqual(await page.evaluate(() => window.__csp), [], `${path}: CSP violations`);
    assert.deepEqual(problems, [], `${path}: problems`);
    // Reflow: at 320px nothing is wider than the screen.
    await page.setViewportSize({ width: 320, height: 640 });
    const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(scroll <= client, `${path}: ${scroll}px wide content on a ${client}px screen`);
  }
  // Every link between the pages goes somewhere.
  for (const href of linked) {
    const r = await fetch(`${server.url}${href}`);
    assert.equal(r.status, 200, `link ${href}`);
  }
  await wide.close();
});

test("every token chorus.css uses is documented for designers and editable in the playground", async () => {
  assert.ok(TOKENS.length >= 20, `found only ${TOKENS.length} tokens in chorus.css`);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/docs/designers.html`);
  const documented = await page.locator("tr[data-token]").evaluateAll((rows) =>
    rows.map((r) => ({ token: r.dataset.token, cells: [...r.cells].map((c) => c.textContent.trim()) })));
  const names = documented.map((d) => d.token);
  for (const t of TOKENS) {
    const row = documented.find((d) => d.token === t);
    assert.ok(row, `${t} is not in the designers' token table`);
    assert.ok(row.cells[0].includes(t), `${t}: the row names it`);
    assert.ok(row.cells.length >= 4 && row.cells.every((c) => c.length > 0), `${t}: the row has a use, a default and an example`);
  }
  for (const n of names) assert.ok(TOKENS.includes(n), `${n} is documented but chorus.css does not use it`);
  await page.goto(`${server.url}/playground.html`);
  for (const t of TOKENS) {
    const input = page.getByLabel(t, { exact: true });
    assert.equal(await input.count(), 1, `${t}: one labelled playground control`);
    assert.equal(await input.getAttribute("data-token"), t);
  }
  await context.close();
});

/** WCAG 2.x contrast, written again here so the playground's figures are checked independently. */
function ratio(hexA, hexB) {
  const lum = (hex) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(hexA), lum(hexB)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}

test("the playground: a token change restyles all three widgets, contrast is checked, and the copied CSS works", async () => {
  const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
  const { page, problems } = await watchedPage(context);
  await page.goto(`${server.url}/playground.html`);
  await widgetsReady(page);
  const buttonColours = () => page.evaluate(() => ["chorus-fft", "chorus-form", "chorus-decision-aid"].map((t) =>
    getComputedStyle(document.querySelector(`.playground__preview ${t}`).shadowRoot.querySelector(".chorus-button:not(.chorus-button--secondary)")).backgroundColor));
  assert.deepEqual(await buttonColours(), Array(3).fill("rgb(0, 127, 59)"), "NHS green before any change");

  // Keyboard: focus the field by its label and type a value key by key.
  await page.getByLabel("--chorus-colour-button", { exact: true }).focus();
  await page.keyboard.type("#5a2d82");
  assert.deepEqual(await buttonColours(), Array(3).fill("rgb(90, 45, 130)"), "every widget follows the token");
  assert.match(await page.locator("#css-output").textContent(), /^\s+--chorus-colour-button: #5a2d82;$/m);
  const buttonRow = page.locator('tr[data-pair="Button text on main button"]');
  assert.equal((await buttonRow.locator(".ratio").textContent()).trim(), `${(Math.floor(ratio("#ffffff", "#5a2d82") * 100) / 100).toFixed(2)}:1`);
  assert.match(await buttonRow.textContent(), /Pass/);

  // Dark text on a light brand button: the pair follows the text token, and so do the widgets.
  await page.getByLabel("--chorus-colour-button-text", { exact: true }).fill("#0b0c0c");
  await page.getByLabel("--chorus-colour-button", { exact: true }).fill("#ffb81c");
  assert.equal((await buttonRow.locator(".ratio").textContent()).trim(), `${(Math.floor(ratio("#0b0c0c", "#ffb81c") * 100) / 100).toFixed(2)}:1`);
  assert.match(await buttonRow.textContent(), /Pass/);
  assert.deepEqual(
    await page.evaluate(() => ["chorus-fft", "chorus-form", "chorus-decision-aid"].map((t) =>
      getComputedStyle(document.querySelector(`.playground__preview ${t}`).shadowRoot.querySelector(".chorus-button")).color)),
    Array(3).fill("rgb(11, 12, 12)"),
  );
  // Cleared, the text is the default white again; back to the purple brand for what follows.
  await page.getByLabel("--chorus-colour-button-text", { exact: true }).fill("");
  await page.getByLabel("--chorus-colour-button", { exact: true }).fill("#5a2d82");
  assert.match(await buttonRow.textContent(), /Pass/);

  // A text colour too pale for AA fails, in words and not only in colour.
  await page.getByLabel("--chorus-colour-text", { exact: true }).fill("#aaaaaa");
  const textRow = page.locator('tr[data-pair="Body text on background"]');
  assert.equal((await textRow.locator(".ratio").textContent()).trim(), `${(Math.floor(ratio("#aaaaaa", "#ffffff") * 100) / 100).toFixed(2)}:1`);
  assert.match(await textRow.textContent(), /Fails AA/);
  assert.match(await page.locator("#contrast-summary").textContent(), /1 of \d+ colour pairs fail/);
  const legendColour = await page.evaluate(() => getComputedStyle(document.querySelector(".playground__preview chorus-fft").shadowRoot.querySelector("legend")).color);
  assert.equal(legendColour, "rgb(170, 170, 170)");

  // Something that is not a colour is refused with a message, and not applied.
  const text = page.getByLabel("--chorus-colour-text", { exact: true });
  await text.fill("not a colour");
  assert.equal(await text.getAttribute("aria-invalid"), "true");
  assert.match(await page.locator("#t-colour-text-error").textContent(), /Enter a CSS colour/);
  assert.doesNotMatch(await page.locator("#css-output").textContent(), /not a colour/);

  // A non-colour token: spacing and radius reach the widgets too.
  await page.getByLabel("--chorus-radius", { exact: true }).fill("12px");
  const radius = await page.evaluate(() => getComputedStyle(document.querySelector(".playground__preview chorus-fft").shadowRoot.querySelector(".chorus-button")).borderTopLeftRadius);
  assert.equal(radius, "12px");

  // A preset replaces everything; the high-contrast preset passes every pair.
  await page.getByRole("button", { name: "High contrast" }).focus();
  await page.keyboard.press("Enter");
  assert.deepEqual(await buttonColours(), Array(3).fill("rgb(0, 0, 0)"));
  assert.equal(await text.inputValue(), "#000000");
  assert.equal(await page.locator("tr[data-pair] .result--fail").count(), 0);
  assert.match(await page.locator("#contrast-summary").textContent(), /All \d+ colour pairs pass/);
  await expectNoAxeViolations(page, "playground after a preset", { minPasses: 10 });

  await page.getByRole("button", { name: "Copy CSS" }).click();
  await page.locator("#copy-status", { hasText: "CSS copied" }).waitFor();
  const css = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(css, /--chorus-colour-button: #000000;/);
  assert.deepEqual(problems, []);

  // Pasted into a trust page's stylesheet, the copied CSS restyles the widget there.
  const trust = await context.newPage();
  await trust.goto(`${server.url}/`);
  // The demo pages' CSP allows no inline <style> (a trust pastes this into its stylesheet
  // file), so the test adds it as a stylesheet object, which the policy does not govern.
  await trust.evaluate((text) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }, css);
  await trust.locator("chorus-fft .chorus-button").waitFor();
  assert.equal(await trust.locator("chorus-fft .chorus-button").evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(0, 0, 0)");
  assert.equal(await trust.locator("chorus-fft legend").evaluate((l) => getComputedStyle(l).color), "rgb(0, 0, 0)");
  await context.close();
});

test("a snippet copied from the builder works pasted into a blank page on another origin under the printed CSP", async () => {
  const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
  const { page, problems } = await watchedPage(context);
  await page.goto(`${server.url}/snippets.html`);
  const select = page.getByLabel("What to ask");
  await select.locator("option[value='fft-outpatient']").waitFor({ state: "attached" });
  // The list is the server's instrument library.
  const ids = (await (await fetch(`${server.url}/api/v1/instruments`)).json()).map((i) => i.id).sort();
  assert.deepEqual((await select.locator("option").evaluateAll((os) => os.map((o) => o.value))).sort(), ids);

  // A decision aid gets its own element and the option to send anonymously.
  await select.selectOption("aid-knee-pain");
  await page.getByLabel("Let patients send their decision-aid answers anonymously").check();
  assert.match(await page.locator("#snippet").textContent(), /<chorus-decision-aid [^>]*instrument="aid-knee-pain"[^>]* send><\/chorus-decision-aid>/);
  // A missing site id is an error, said in words.
  await page.getByLabel("Site id").fill("");
  assert.match(await page.locator("#site-error").textContent(), /Enter your site id/);
  await page.getByLabel("Site id").fill("demo");

  await select.selectOption("fft-outpatient");
  await page.getByLabel("Service (optional)").fill("ward-7");
  await page.getByRole("button", { name: "Copy HTML" }).click();
  await page.locator("#snippet-status", { hasText: "Copied" }).waitFor();
  const snippet = await page.evaluate(() => navigator.clipboard.readText());
  await page.getByRole("button", { name: "Copy policy lines" }).click();
  await page.locator("#csp-status", { hasText: "Copied" }).waitFor();
  const cspLines = await page.evaluate(() => navigator.clipboard.readText());
  assert.deepEqual(problems, []);
  await page.close();

  // The integrity value is the hash of the chorus.js this server serves.
  const js = Buffer.from(await (await fetch(`${server.url}/embed/chorus.js`, { headers: { "accept-encoding": "identity" } })).arrayBuffer());
  const sri = `sha384-${createHash("sha384").update(js).digest("base64")}`;
  assert.ok(snippet.includes(`integrity="${sri}"`), `snippet carries ${sri}: ${snippet}`);
  assert.match(snippet, /crossorigin="anonymous"/);
  // The optional preload line names this server's module, with the CORS mode the loader uses.
  const manifest = await (await fetch(`${server.url}/embed/manifest.json`)).json();
  assert.ok(
    snippet.startsWith(`<link rel="preload" href="${server.url}/embed/${manifest.wasm}" as="fetch" crossorigin="anonymous">\n<script `),
    `snippet starts with the preload line: ${snippet}`,
  );
  assert.match(snippet, /<chorus-fft endpoint="http:\/\/127\.0\.0\.1:\d+" site="demo" service="ward-7" instrument="fft-outpatient"><\/chorus-fft>/);
  assert.match(cspLines, /script-src http:\/\/127\.0\.0\.1:\d+ 'wasm-unsafe-eval';/);
  assert.match(cspLines, /connect-src http:\/\/127\.0\.0\.1:\d+;/);

  // A blank page on a different origin (another port: the demo site allows any local port),
  // sending only the builder's lines plus deny-everything-else, even for styles.
  const policy = `default-src 'none'; style-src 'none'; ${cspLines.replace(/\s*\n\s*/g, " ")}`;
  const blank = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": policy });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Blank page</title></head><body><main>\n${snippet}\n</main></body></html>`);
  });
  await new Promise((ok) => blank.listen(0, "127.0.0.1", ok));
  try {
    const watched = await watchedPage(context);
    const p = watched.page;
    const sent = [];
    const modules = [];
    const preloadWarnings = [];
    p.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/api/v1/responses")) sent.push(r.postDataJSON());
      if (r.url().endsWith(".wasm")) modules.push(r.url());
    });
    p.on("console", (m) => /preload/i.test(m.text()) && preloadWarnings.push(m.text()));
    await p.goto(`http://127.0.0.1:${blank.address().port}/`);
    await p.evaluate(() => {
      window.__events = [];
      document.addEventListener("chorus:submitted", (e) => window.__events.push(e.detail.reference));
    });
    await p.locator("chorus-fft input[type=radio]").first().waitFor({ timeout: 15_000 });
    // Styled by the widget's own sheet even with style-src 'none'.
    assert.equal(await p.locator("chorus-fft legend").evaluate((l) => getComputedStyle(l).fontWeight), "700");
    await p.getByLabel("Good", { exact: true }).check();
    await p.locator("chorus-fft button[type=submit]").click();
    await p.locator("chorus-fft .chorus-panel").waitFor({ timeout: 15_000 });
    await p.waitForFunction(() => window.__events.length === 1);
    assert.match(await p.evaluate(() => window.__events[0]), /^CH-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.equal(sent.length, 1);
    const body = JSON.stringify(sent[0]);
    for (const part of ['"fft-outpatient"', '"demo"', '"ward-7"']) assert.ok(body.includes(part), `the submission carries ${part}: ${body}`);
    // The preload was the loader's download: the module was fetched once, and the browser had
    // nothing to say about an unused or mismatched preload.
    assert.deepEqual(modules, [`${server.url}/embed/${manifest.wasm}`]);
    assert.deepEqual(preloadWarnings, []);
    assert.deepEqual(await p.evaluate(() => window.__csp), [], "CSP violations on the blank page");
    assert.deepEqual(watched.problems, []);
  } finally {
    blank.close();
    await context.close();
  }
});

test("the API page links the OpenAPI document the server serves", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/docs/api.html`);
  const href = await page.locator('a[href="/api/v1/openapi.json"]').first().getAttribute("href");
  const doc = await (await fetch(`${server.url}${href}`)).json();
  assert.match(doc.openapi, /^3\./);
  // Every path the document lists is named on the page.
  const text = await page.locator("main").textContent();
  for (const path of Object.keys(doc.paths)) assert.ok(text.includes(path), `docs/api.html names ${path}`);
  await page.close();
});

test("the experience teams' worked examples are what the server computes", async () => {
  const html = await (await fetch(`${server.url}/docs/experience-teams.html`)).text();
  let n = 0;
  const post = async (instrument, answers) => {
    const res = await fetch(`${server.url}/api/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ site: "demo", response: { instrument, version: 1, idempotency_key: `docs-example-${n++}`, answers } }),
    });
    assert.equal(res.status, 201, `${instrument}: ${await res.clone().text()}`);
    return (await res.json()).scores;
  };
  // SDM-Q-9: nine answers adding up to 36, then eight adding up to 30.
  const nine = { q1: 4, q2: 4, q3: 4, q4: 4, q5: 4, q6: 4, q7: 4, q8: 4, q9: 4 };
  assert.match(html, /36 × 20 ÷ 9 = 80\.0/);
  assert.equal((await post("sdm-q-9", nine)).sdm_q_9.score.display, "80.0");
  const eight = { q1: 5, q2: 5, q3: 4, q4: 4, q5: 3, q6: 3, q7: 3, q8: 3 };
  assert.match(html, /add up to 30[^.]*\.[^<]*score is 75\.0/);
  assert.equal((await post("sdm-q-9", eight)).sdm_q_9.score.display, "75.0");
  // CollaboRATE: 9, 9 and 8.
  assert.match(html, /26 ÷ 27 × 100 = 96\.3/);
  const c = (await post("collaborate", { understand: 9, listen: 9, include: 8 })).collaborate;
  assert.equal(c.mean_score.display, "96.3");
  assert.equal(c.top_score, false);
  assert.equal((await post("collaborate", { understand: 9, listen: 9, include: 9 })).collaborate.top_score, true);
  // SURE: one "no" of four screens positive.
  const s = (await post("sure", { "sure-sure": true, "sure-understand": true, "sure-values": false, "sure-support": true })).sure;
  assert.deepEqual([s.total, s.conflict], [3, true]);
  // FFT grouping as the page describes it.
  assert.equal((await post("fft", { fft: "good" })).fft.category, "positive");
  assert.equal((await post("fft", { fft: "very_poor" })).fft.category, "negative");
});

test("the I Statement example on the experience teams' page is what the server computes", async () => {
  const html = await (await fetch(`${server.url}/docs/experience-teams.html`)).text();
  assert.match(html, /\(100 \+ 75 \+ 25\) ÷ 3 = 66\.7/);
  assert.match(html, /theme score is 75\.0/);
  assert.match(html, /\(66\.7 \+ 75\.0\) ÷ 2 = 70\.8/);
  const answers = {
    "communication-1": "strongly_agree", "communication-2": "agree", "communication-3": "disagree", "communication-4": "does_not_apply",
    "planning-1": "agree", "planning-2": "agree",
    "transitions-1": "agree",
  };
  const res = await fetch(`${server.url}/api/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url },
    body: JSON.stringify({ site: "demo", response: { instrument: "i-statements", version: 1, idempotency_key: "docs-example-i-statements", answers } }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const scores = (await res.json()).scores.i_statements;
  const theme = (id) => scores.themes.find((t) => t.theme === id);
  assert.equal(theme("communication").score.display, "66.7");
  assert.equal(theme("planning").score.display, "75.0");
  assert.equal(theme("transitions").score ?? null, null, "under half answered: no theme score");
  assert.equal(scores.overall.display, "70.8");
});
