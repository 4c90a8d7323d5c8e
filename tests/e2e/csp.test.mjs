// Under `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'` the widget
// renders, is styled (constructable stylesheet, no inline styles) and sends, with no violation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browser, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

test("the FFT works under a strict CSP with no violations", async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
  });
  // Every request the page makes succeeds (the browser's own favicon probe aside).
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push(e.message));
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${server.url}/csp.html`);
  await page.locator("chorus-fft input[type=radio]").first().waitFor({ timeout: 15_000 });
  // Styled: the legend is bold and the radios are drawn as 40px circles by our stylesheet.
  const weight = await page.locator("chorus-fft legend").evaluate((el) => getComputedStyle(el).fontWeight);
  assert.equal(weight, "700");
  await page.locator("chorus-fft #q-fft-1").check();
  await page.locator("chorus-fft button[type=submit]").click();
  await page.locator("chorus-fft .chorus-panel").waitFor({ timeout: 15_000 });
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  assert.deepEqual(problems, []);
  await page.close();
});
