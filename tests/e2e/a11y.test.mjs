// axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on every state of <chorus-fft>: first view, the
// error state, the redaction preview, the confirmation; in English and Welsh. Zero violations.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AxeBuilder } from "@axe-core/playwright";
import { launchBrowser, startServer } from "./support.mjs";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function expectNoViolations(page, state) {
  const result = await new AxeBuilder({ page }).withTags(TAGS).include("chorus-fft").analyze();
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  assert.deepEqual(found, [], `${state}: axe found violations`);
  assert.ok(result.passes.length > 0, `${state}: axe checked nothing`);
}

for (const lang of ["en", "cy"]) {
  test(`FFT has no WCAG A/AA violations in any state (${lang})`, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.evaluate((l) => document.querySelector("chorus-fft").setAttribute("locale", l), lang);
    // Re-mount so the locale applies from the start.
    await page.evaluate(() => {
      const el = document.querySelector("chorus-fft");
      el.replaceWith(el.cloneNode(true));
    });
    await page.locator("chorus-fft input[type=radio]").first().waitFor();
    await expectNoViolations(page, "first view");
    await page.locator("chorus-fft button[type=submit]").click();
    await page.locator("chorus-fft .chorus-error-summary").waitFor();
    await expectNoViolations(page, "error");
    await page.locator("chorus-fft #q-fft-3").check();
    await page.locator("chorus-fft #q-why").fill("Email me at sam@example.org please");
    await page.locator("chorus-fft .chorus-redacted").waitFor();
    await expectNoViolations(page, "redaction preview");
    await page.locator("chorus-fft button[type=submit]").click();
    await page.locator("chorus-fft .chorus-panel").waitFor({ timeout: 15_000 });
    await expectNoViolations(page, "confirmation");
    await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/fft-confirmation-${lang}.png` });
    await context.close();
  });
}
