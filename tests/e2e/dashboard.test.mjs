// The staff dashboard in a real browser: sign in through the form, read every report with its
// charts, with no JavaScript at all, no WCAG 2.2 A/AA violations (axe-core), nothing wider
// than a 320px screen, and a CSP that allows no script.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browser, expectFits, expectNoAxeViolations, seedDemo, server, useServerAndBrowser } from "./support.mjs";

let login;
useServerAndBrowser(async () => {
  login = await seedDemo(server);
});

async function signIn(page) {
  await page.goto(`${server.url}/dashboard/fft`);
  // Not signed in: sent to the sign-in page.
  assert.match(page.url(), /\/dashboard\/login$/);
  await page.getByLabel("Email address").fill(login.email);
  await page.getByLabel("Password").fill(login.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/dashboard$/);
}

test("a wrong password is refused with an error summary", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/dashboard/login`);
  await page.getByLabel("Email address").fill(login.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("The email address or password is not right").first().waitFor();
  assert.match(page.url(), /\/dashboard\/login$/);
  await context.close();
});

test("staff sign in and see every report's charts, without JavaScript", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const violations = [];
  page.on("console", (m) => m.type() === "error" && violations.push(m.text()));
  await signIn(page);
  await page.getByRole("link", { name: "Friends and Family Test" }).first().click();
  for (const [path, charts] of [
    ["fft", ["fft-trend", "fft-services"]],
    ["i-statements", ["theme-scores"]],
    ["decisions", ["completions", "sure-totals"]],
  ]) {
    await page.goto(`${server.url}/dashboard/${path}`);
    for (const id of charts) {
      const svg = page.locator(`svg#${id}[role=img]`);
      await svg.waitFor();
      const box = await svg.boundingBox();
      assert.ok(box && box.width > 200 && box.height > 100, `${id} is drawn (${JSON.stringify(box)})`);
      // Named by its title and description, as a screen reader hears it.
      const name = await svg.getAttribute("aria-labelledby");
      assert.equal(name, `${id}-title ${id}-desc`);
      assert.ok((await page.locator(`#${id}-desc`).textContent()).length > 20);
    }
    assert.ok((await page.locator("table").count()) >= charts.length, `${path}: a data table per chart`);
  }
  // The FFT headline is a real percentage from the seeded data.
  await page.goto(`${server.url}/dashboard/fft`);
  assert.match(await page.locator("#fft-positive").textContent(), /^\d+\.\d% \(/);
  await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/dashboard-fft.png`, fullPage: true });
  // Filtering by service narrows the figures (a GET form: works without script).
  await page.getByLabel("Service", { exact: true }).selectOption("emergency");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL(/service=emergency/);
  assert.match(await page.locator("#fft-positive").textContent(), /^(\d+\.\d% \(|\*)/);
  assert.deepEqual(violations, [], "no console errors (a CSP violation would show here)");
  await context.close();
});

test("paper cards are keyed from the keyboard alone: digit, Tab, comment, Enter, and the focus is back for the next card", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page);
  await page.goto(`${server.url}/dashboard/paper?site=demo&service=ward-7`);
  // The answer box has the focus when the page opens.
  assert.equal(await page.evaluate(() => document.activeElement?.id), "answer");
  for (const [n, card] of [["2", "Kind staff"], ["5", ""]]) {
    await page.keyboard.type(n);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "comment");
    if (card) await page.keyboard.type(card);
    await Promise.all([page.waitForLoadState("load"), page.keyboard.press("Enter")]);
    await page.waitForSelector(".notice");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "answer", "focus back in the answer box");
    assert.equal(await page.inputValue("#answer"), "", "an empty form for the next card");
  }
  assert.match(await page.locator(".notice").textContent(), /Card 2 saved \(reference CH-/);
  assert.equal(await page.locator("#count").textContent(), "2");
  await expectNoAxeViolations(page, "paper cards after saving");
  await context.close();
});

test("dashboard pages have no WCAG A/AA violations and fit a 320px screen", async () => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/dashboard/login`);
  await expectNoAxeViolations(page, "sign-in");
  await signIn(page);
  for (const path of ["", "/fft", "/i-statements", "/decisions", "/comments", "/exports", "/equality", "/paper", "/audit"]) {
    await page.goto(`${server.url}/dashboard${path}`);
    await expectNoAxeViolations(page, `dashboard${path}`);
    // Reflow: the page itself never scrolls sideways (wide tables scroll inside their box).
    await expectFits(page, `dashboard${path}`);
  }
  await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/dashboard-audit-320.png`, fullPage: true });
  await context.close();
});
