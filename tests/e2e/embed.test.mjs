// The backbone's promise: one script tag on a page served by `chorus serve` renders <chorus-fft>.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browser, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

test("the demo page's script tag renders the FFT radios inside <chorus-fft>", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}/`);
  // Playwright's CSS engine pierces open shadow roots, so this finds the radios inside.
  const radios = page.locator("chorus-fft input[type=radio]");
  await radios.first().waitFor({ state: "visible", timeout: 15_000 });
  assert.equal(await radios.count(), 6);
  const legend = await page.locator("chorus-fft legend").textContent();
  assert.equal(legend.trim(), "Overall, how was your experience of our service?");
  // Rendered inside a shadow root, not into the host page's light DOM.
  assert.equal(await page.evaluate(() => document.querySelector("chorus-fft").shadowRoot !== null), true);
  assert.equal(await page.evaluate(() => document.querySelectorAll("input").length), 0);
  // Each radio is labelled, so screen readers announce the answer.
  await page.getByLabel("Neither good nor poor").check();
  assert.equal(await page.getByLabel("Neither good nor poor").isChecked(), true);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the bundle is served with the right types", async () => {
  const manifest = await (await fetch(`${server.url}/embed/manifest.json`)).json();
  const js = await fetch(`${server.url}/embed/chorus.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type"), /javascript/);
  const wasm = await fetch(`${server.url}/embed/${manifest.wasm}`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get("content-type"), "application/wasm");
  assert.match(wasm.headers.get("cache-control"), /immutable/);
  assert.doesNotMatch(js.headers.get("cache-control"), /immutable/);
  for (const f of manifest.files) assert.match(f.integrity, /^sha384-[A-Za-z0-9+/]+=*$/);
});

test("a Welsh page gets the Welsh question", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.evaluate(() => {
    document.documentElement.lang = "cy";
    const el = document.createElement("chorus-fft");
    el.id = "welsh";
    el.setAttribute("site", "demo");
    document.body.append(el);
  });
  const legend = page.locator("#welsh legend");
  await legend.waitFor({ timeout: 15_000 });
  assert.match(await legend.textContent(), /Yn gyffredinol/);
  await page.close();
});

test("FFT with the keyboard alone: error summary takes focus, then send and see the receipt", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  const submitted = page.evaluate(
    () => new Promise((ok) => document.addEventListener("chorus:submitted", (e) => ok(e.detail.reference), { once: true })),
  );
  await page.locator("chorus-fft input[type=radio]").first().waitFor();
  // Sending with nothing chosen: the error summary appears and takes focus.
  await page.locator("chorus-fft button[type=submit]").focus();
  await page.keyboard.press("Enter");
  const summary = page.locator("chorus-fft .chorus-error-summary");
  await summary.waitFor();
  assert.equal(await page.evaluate(() => document.querySelector("chorus-fft").shadowRoot.activeElement?.className), "chorus-error-summary");
  assert.match(await summary.textContent(), /There is a problem/);
  // Choose "Good" with the keyboard: focus the first radio, arrow down once, select.
  await page.locator("chorus-fft #q-fft").focus();
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.locator("chorus-fft #q-fft-1").isChecked(), true);
  await page.keyboard.press("Tab");
  await page.keyboard.type("Lovely nurse. Call me on 07700 900123.");
  const preview = page.locator("chorus-fft .chorus-redacted");
  await preview.waitFor();
  assert.equal(await preview.textContent(), "Lovely nurse. Call me on [phone number].");
  // Past the second question ("anything we could have done better?") to the button.
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  const panel = page.locator("chorus-fft .chorus-panel");
  await panel.waitFor({ timeout: 15_000 });
  const reference = await submitted;
  assert.match(reference, /^CH-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  assert.match(await panel.textContent(), new RegExp(reference));
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /chorus_responses_stored_total 1\b/);
  await page.close();
});

test("offline: the response is kept, then arrives exactly once when the browser is back online", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.locator("chorus-fft input[type=radio]").first().waitFor();
  const before = Number((await (await fetch(`${server.url}/metrics`)).text()).match(/chorus_responses_stored_total (\d+)/)[1]);
  await page.locator("chorus-fft #q-fft").check();
  await context.setOffline(true);
  await page.locator("chorus-fft button[type=submit]").click();
  const queued = page.locator("chorus-fft [part=queued]");
  await queued.waitFor({ timeout: 20_000 });
  assert.match(await queued.textContent(), /saved on this device/);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("chorus:queue:")).length), 1);
  await context.setOffline(false);
  const panel = page.locator("chorus-fft .chorus-panel");
  await panel.waitFor({ timeout: 20_000 });
  assert.match(await panel.textContent(), /CH-/);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("chorus:queue:")).length), 0);
  // A reload (the "next visit" path) finds nothing left to send: stored exactly once.
  await page.reload();
  await page.locator("chorus-fft input[type=radio]").first().waitFor();
  await new Promise((r) => setTimeout(r, 500));
  const after = Number((await (await fetch(`${server.url}/metrics`)).text()).match(/chorus_responses_stored_total (\d+)/)[1]);
  assert.equal(after - before, 1);
  await context.close();
});
