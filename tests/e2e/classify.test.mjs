// Themes, the review queue, "you said, we did" and the public results page in a real browser:
// every page works with JavaScript off (forms are plain posts, charts are SVG with tables);
// axe-core (which needs script itself, so it runs in a second context) finds no WCAG 2.2 A/AA
// violation; nothing is wider than a 320px screen; no CSP violation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browser, expectFits, expectNoAxeViolations, seedDemo, server, signInWithPassword, useServerAndBrowser } from "./support.mjs";

let login;
useServerAndBrowser(async () => {
  login = await seedDemo(server, { months: 3, perMonth: 60 });
  // A response through the API wakes the classifier, which then reads the seeded ones too;
  // this one is also flagged, so the review queue has something in it.
  const res = await fetch(`${server.url}/api/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ site: "demo", service: "emergency", response: {
      instrument: "fft", version: 1, locale: "en", idempotency_key: `e2e-flag-${Date.now()}`,
      answers: { fft: "very_poor", why: "A nurse shouted at me and I want to make a formal complaint." } } }),
  });
  assert.equal(res.status, 201);
});

async function signIn(page) {
  await signInWithPassword(page, login);
  await page.waitForURL(/\/dashboard$/);
}

test("themes, review queue and actions work without JavaScript", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  // The browser's own favicon request (404: the dashboard has none) is not the page's doing;
  // every response the page itself asked for is checked instead.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  page.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
  await signIn(page);
  // The classifier runs in the background: wait for the seeded comments to be counted.
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.goto(`${server.url}/dashboard/themes?site=demo`);
    const text = await page.locator("main").innerText();
    const m = text.match(/(\d+) comments with free text/);
    if (m && Number(m[1]) > 20) break;
    assert.ok(Date.now() < deadline, `the themes page did not fill: ${text.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const id of ["themes-chart", "theme-trend"]) {
    const svg = page.locator(`svg#${id}`);
    assert.equal(await svg.getAttribute("role"), "img");
    assert.ok((await svg.locator("desc").textContent()).length > 20, `${id} describes itself in words`);
  }
  assert.ok((await page.locator("table").count()) >= 2, "each chart has its table");
  await expectFits(page, "themes");
  await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/dashboard-themes-320.png`, fullPage: true });

  await page.goto(`${server.url}/dashboard/comments?site=demo`);
  await expectFits(page, "comments with themes");

  await page.goto(`${server.url}/dashboard/review?site=demo`);
  await page.getByText("shouted at", { exact: true }).first().waitFor();
  await expectFits(page, "review queue");
  await page.getByLabel("Outcome").first().selectOption("incident reported");
  await page.getByRole("button", { name: /Record review/ }).first().click();
  await page.getByText("incident reported").first().waitFor();

  await page.goto(`${server.url}/dashboard/actions?site=demo`);
  await page.getByLabel("You said").fill("The waiting area was cold");
  await page.getByLabel("We did").fill("We fixed the heating and added a second radiator");
  await page.getByRole("button", { name: "Save action" }).click();
  await page.getByText("We fixed the heating").first().waitFor();
  await expectFits(page, "actions");
  assert.deepEqual(errors, [], "no console errors (a CSP violation would show here)");
  await context.close();
});

test("the new dashboard pages have no WCAG A/AA violations at 320px", async () => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await signIn(page);
  for (const path of ["/themes?site=demo", "/comments?site=demo", "/review?site=demo&status=all", "/actions?site=demo"]) {
    await page.goto(`${server.url}/dashboard${path}`);
    await expectNoAxeViolations(page, `dashboard${path}`);
    await expectFits(page, `dashboard${path}`);
  }
  await context.close();
});

test("the public results page passes axe, fits 320px and shows the action", async () => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  const res = await page.goto(`${server.url}/results/demo`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()["content-security-policy"], /default-src 'none'/);
  await page.getByText("We fixed the heating").first().waitFor();
  assert.equal(await page.locator("svg#results-fft").getAttribute("role"), "img");
  await expectNoAxeViolations(page, "results");
  await expectFits(page, "results");
  await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/results-320.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});
