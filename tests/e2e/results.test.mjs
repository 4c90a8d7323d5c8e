// <chorus-results> (issue 19, "you said, we did") on a trust's page under the strictest
// Content-Security-Policy: it shows the service's FFT % positive by month with its interval,
// the most mentioned themes and the actions staff recorded, exactly as the server publishes
// them (suppressed figures stay `*`, no patient's words), as tables; with no CSP violation,
// no WCAG A/AA violation (axe) in English and Welsh, and right to left without overflow at
// 320 px.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browser, expectNoAxeViolations, seedDemo, server, signInWithPassword, useServerAndBrowser } from "./support.mjs";

const STRICT = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; connect-src 'self'";
const WORDS = "The food was lovely and hot, thank you";
let login;

async function post(service, fft, why, n) {
  const body = {
    site: "demo",
    service,
    response: { instrument: "fft", version: 1, locale: "en", idempotency_key: `results-${service}-${n}`, answers: why ? { fft, why } : { fft } },
  };
  const r = await fetch(`${server.url}/api/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(r.status, 201, await r.text());
}

const published = async (service) => (await fetch(`${server.url}/api/v1/results/demo?service=${service}`)).json();

useServerAndBrowser(async () => {
  login = await seedDemo(server, { months: 1, perMonth: 10 });
  // Eleven answers for one service (eight good with a comment about the food), three for another.
  for (let i = 0; i < 11; i++) await post("ward-results", i < 8 ? "very_good" : "poor", i < 8 ? WORDS : null, i);
  for (let i = 0; i < 3; i++) await post("ward-tiny", "good", null, i);
  // The comments are classified in the background.
  const deadline = Date.now() + 20_000;
  while (!(await published("ward-results")).themes.some((t) => t.theme === "food")) {
    if (Date.now() > deadline) throw new Error("the comments were not classified within 20 s");
    await new Promise((r) => setTimeout(r, 250));
  }
  // Staff record what they did, on the dashboard.
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInWithPassword(page, login);
  await page.waitForURL(/\/dashboard$/);
  await page.goto(`${server.url}/dashboard/actions?site=demo`);
  await page.getByLabel("Service (optional)").fill("ward-results");
  await page.getByLabel("You said", { exact: true }).fill("Meals sometimes arrived cold");
  await page.getByLabel("We did", { exact: true }).fill("We bought heated trolleys for the ward");
  await page.getByLabel("Status").selectOption("done");
  await page.getByRole("button", { name: "Save action" }).click();
  await page.getByText("We bought heated trolleys for the ward").first().waitFor();
  await context.close();
});

/** A trust's page on the server's origin, served with the strict policy, holding `body`. */
async function hostPage(body, { viewport = { width: 1000, height: 900 }, lang = "en" } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.route(`${server.url}/results-host/`, (route) =>
    route.fulfill({
      contentType: "text/html; charset=utf-8",
      headers: { "content-security-policy": STRICT },
      body: `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Ward results</title>
<script src="/embed/chorus.js" defer></script></head>
<body><main><h1>Our ward</h1>${body}</main></body></html>`,
    }),
  );
  await page.goto(`${server.url}/results-host/`);
  return { context, page, problems };
}

/** Each row of the widget's tables as its cells' text. */
const tables = (loc) =>
  loc.evaluate((el) =>
    [...el.shadowRoot.querySelectorAll("table")].map((t) => ({
      caption: t.caption.textContent,
      rows: [...t.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent)),
    })),
  );

async function axe(page, tag, state) {
  await expectNoAxeViolations(page, `${tag} ${state}`, { include: tag });
}

test("<chorus-results> shows a service's published figures and actions under a strict CSP, and passes axe", async () => {
  const { context, page, problems } = await hostPage(
    `<chorus-results id="ward" site="demo" service="ward-results"></chorus-results>
     <chorus-results id="tiny" site="demo" service="ward-tiny"></chorus-results>`,
  );
  const ward = page.locator("#ward");
  await ward.locator("table").first().waitFor({ timeout: 15_000 });
  await page.locator("#tiny table").first().waitFor({ timeout: 15_000 });
  const json = await published("ward-results");
  const [fft, themes] = await tables(ward);
  // FFT by month: exactly the server's figures.
  assert.equal(fft.caption, "Friends and Family Test by month");
  assert.equal(fft.rows.length, json.months.length);
  const m = json.months.at(-1);
  assert.equal(m.responses, "11");
  const row = fft.rows.at(-1);
  assert.match(row[0], /^(January|February|March|April|May|June|July|August|September|October|November|December) 20\d\d$/);
  assert.deepEqual(row.slice(1), [m.responses, `${m.positive.percent}%`, `${m.positive.low}% to ${m.positive.high}%`]);
  // Themes: food, with its counts as published (a suppressed share stays suppressed).
  const food = themes.rows.find((r) => r[0] === "food");
  const f = json.themes.find((t) => t.theme === "food");
  assert.ok(food, JSON.stringify(themes));
  const shown = (p) => (p.percent === "*" ? "*suppressed" : `${p.percent}%`);
  assert.deepEqual(food, ["food", f.comments, shown(f.positive), shown(f.negative)]);
  // The action, and none of the patients' words.
  const text = await ward.evaluate((el) => el.shadowRoot.textContent);
  assert.ok(text.includes("We bought heated trolleys for the ward"), text);
  assert.ok(text.includes("Meals sometimes arrived cold"));
  assert.ok(!text.includes("lovely and hot"), "a patient's comment is on the page");
  // Three answers: every figure suppressed, exactly as the server says, read out as such.
  const tiny = await published("ward-tiny");
  assert.equal(tiny.months.at(-1).responses, "*", JSON.stringify(tiny));
  const [tinyFft] = await tables(page.locator("#tiny"));
  assert.deepEqual(tinyFft.rows.at(-1).slice(1), ["*suppressed", "*suppressed", "*suppressed"]);
  assert.equal(await page.locator("#tiny").getByText("No actions recorded yet.").count(), 1);
  await axe(page, "#ward", "figures");
  await axe(page, "#tiny", "suppressed figures");
  assert.deepEqual(await page.evaluate(() => window.__csp), [], "no CSP violation");
  assert.deepEqual(problems, []);
  assert.deepEqual(await context.cookies(), [], "no cookies");
  await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/results.png`, fullPage: true });
  await context.close();
});

test("<chorus-results> in Welsh and right to left at 320 px: translated, no overflow, passes axe", async () => {
  const { context, page, problems } = await hostPage(
    `<chorus-results id="cy" locale="cy" site="demo" service="ward-results"></chorus-results>
     <chorus-results id="ar" locale="ar" site="demo" service="ward-results"></chorus-results>`,
    { viewport: { width: 320, height: 640 } },
  );
  const cy = page.locator("#cy");
  await cy.locator("table").first().waitFor({ timeout: 15_000 });
  await page.locator("#ar table").first().waitFor({ timeout: 15_000 });
  assert.equal(await cy.locator("h2").first().textContent(), "Prawf Ffrindiau a Theulu");
  const [fft] = await tables(cy);
  assert.match(fft.rows.at(-1)[0], /^(Ionawr|Chwefror|Mawrth|Ebrill|Mai|Mehefin|Gorffennaf|Awst|Medi|Hydref|Tachwedd|Rhagfyr) 20\d\d$/);
  assert.match(fft.rows.at(-1)[3], /% i /);
  await axe(page, "#cy", "Welsh");
  const dir = await page.locator("#ar").evaluate((el) => getComputedStyle(el.shadowRoot.querySelector("table")).direction);
  assert.equal(dir, "rtl");
  await axe(page, "#ar", "right to left");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.deepEqual(problems, []);
  await context.close();
});

test("<chorus-results> for an unknown site says the results are unavailable and tells the page why", async () => {
  const { context, page, problems } = await hostPage(`<chorus-results site="no-such-site"></chorus-results>`);
  await page.locator("chorus-results").getByText("Sorry, these results are not available at the moment.").waitFor({ timeout: 15_000 });
  assert.equal(await page.locator("chorus-results table").count(), 0);
  // For the web team: the console names the address and what it answered.
  assert.ok(problems.some((p) => /Chorus: .*\/api\/v1\/results\/no-such-site answered 404/.test(p)), problems.join("\n"));
  await context.close();
});
