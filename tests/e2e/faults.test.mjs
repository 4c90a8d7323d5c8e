// The widgets under faults and on small screens: a server that answers 500, a browser whose
// storage is full, a 320 px screen and 200 % zoom. The patient is always told plainly what
// happened, and their answers are never lost.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browser, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

async function answerFft(page) {
  const fft = page.locator("chorus-fft");
  await fft.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  await fft.getByLabel("Good", { exact: true }).check();
  await fft.locator("#q-why").fill("Kind staff.");
  return fft;
}

test("a server answering 500: retried, then kept on the device and delivered once it recovers", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  let refused = 0;
  await page.route("**/api/v1/responses", (route) => {
    refused++;
    return route.fulfill({ status: 500, contentType: "application/json", body: '{"error":{"code":"internal","message":"down"}}' });
  });
  await page.goto(`${server.url}/`);
  const fft = await answerFft(page);
  await fft.locator("button[type=submit]").click();
  const queued = fft.locator("[part=queued]");
  await queued.waitFor({ timeout: 20_000 });
  assert.ok(refused >= 2, `retried with backoff (${refused} attempts)`);
  assert.match(await queued.textContent(), /saved on this device/);
  // The server recovers; the browser's next `online` delivers the kept copy.
  await page.unroute("**/api/v1/responses");
  const submitted = page.evaluate(
    () => new Promise((ok) => document.querySelector("chorus-fft").addEventListener("chorus:submitted", (e) => ok(e.detail.reference))),
  );
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  assert.match(await submitted, /^CH-/);
  await fft.locator("[part=confirmation]").waitFor();
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("chorus:queue:")).length), 0);
  await context.close();
});

test("server down and storage full: the patient is told, and the answers stay on the form", async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    Storage.prototype.setItem = () => {
      throw new DOMException("full", "QuotaExceededError");
    };
  });
  const page = await context.newPage();
  await page.route("**/api/v1/responses", (route) => route.abort("connectionrefused"));
  await page.goto(`${server.url}/`);
  const fft = await answerFft(page);
  const error = page.evaluate(
    () => new Promise((ok) => document.querySelector("chorus-fft").addEventListener("chorus:error", (e) => ok(e.detail.code))),
  );
  await fft.locator("button[type=submit]").click();
  assert.equal(await error, "unreachable");
  const summary = fft.locator(".chorus-error-summary");
  await summary.waitFor({ timeout: 20_000 });
  assert.match(await summary.textContent(), /could not send your answers.*still here/);
  assert.equal(await fft.getByLabel("Good", { exact: true }).isChecked(), true);
  assert.equal(await fft.locator("#q-why").inputValue(), "Kind staff.");
  // Trying again once the server is back works, with the same answers.
  await page.unroute("**/api/v1/responses");
  await fft.locator("button[type=submit]").click();
  await fft.locator("[part=confirmation]").waitFor({ timeout: 15_000 });
  await context.close();
});

for (const [width, label] of [
  [320, "a 320 px screen"],
  [640, "200 % zoom on a 1280 px screen"],
]) {
  test(`${label}: no horizontal scrolling and nothing cut off, on every widget page`, async () => {
    const context = await browser.newContext({ viewport: { width, height: 700 } });
    const page = await context.newPage();
    for (const [path, tag, ready] of [
      ["/", "chorus-fft", "input[type=radio]"],
      ["/feedback.html", "chorus-form", "input[type=radio]"],
      ["/decision-aid.html", "chorus-decision-aid", "table"],
    ]) {
      await page.goto(`${server.url}${path}`);
      await page.locator(`${tag} ${ready}`).first().waitFor({ timeout: 15_000 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${path} at ${width}px scrolls sideways by ${overflow}px`);
      // Every control inside the widget lies within the screen's width.
      const outside = await page.evaluate((tag) => {
        const root = document.querySelector(tag).shadowRoot;
        return [...root.querySelectorAll("button, label, legend, th, td, textarea")]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
          .map((e) => e.textContent.trim().slice(0, 30));
      }, tag);
      assert.deepEqual(outside, [], `${path} at ${width}px: cut off`);
    }
    await context.close();
  });
}
