// axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on every state of <chorus-fft>: first view, the
// error state, the redaction preview, the confirmation; in English and Welsh. Zero violations.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browser, expectNoAxeViolations, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

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
    await expectNoAxeViolations(page, "first view", { include: "chorus-fft" });
    await page.locator("chorus-fft button[type=submit]").click();
    await page.locator("chorus-fft .chorus-error-summary").waitFor();
    await expectNoAxeViolations(page, "error", { include: "chorus-fft" });
    await page.locator("chorus-fft #q-fft-3").check();
    await page.locator("chorus-fft #q-why").fill("Email me at sam@example.org please");
    await page.locator("chorus-fft .chorus-redacted").waitFor();
    await expectNoAxeViolations(page, "redaction preview", { include: "chorus-fft" });
    await page.locator("chorus-fft button[type=submit]").click();
    await page.locator("chorus-fft .chorus-panel").waitFor({ timeout: 15_000 });
    await expectNoAxeViolations(page, "confirmation", { include: "chorus-fft" });
    await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/fft-confirmation-${lang}.png` });
    await context.close();
  });
}
