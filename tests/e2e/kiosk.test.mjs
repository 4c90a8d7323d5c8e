// Kiosk (tablet) mode (issue 18) in a real browser: a tablet in a waiting room that one patient
// after another uses. After sending it thanks the patient and, a few seconds later, starts
// afresh with nothing of theirs left (answers, receipt, storage), focus back at the start, and
// the answer stored as mode tablet; a half-filled form left alone is cleared after a polite
// warning; the large-target kiosk widget passes axe at 320 px. The test pages set short
// `kiosk-reset` / `kiosk-idle` values so the waits are seconds, not minutes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { browser, expectFits, expectNoAxeViolations, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

/** The answers stored for `service` (the export's rows; mode is the last column). */
function exported(service) {
  const csv = execFileSync(process.env.CHORUS_BIN ?? join(import.meta.dirname, "../../target/debug/chorus"),
    ["export", "--database", server.database, "--instrument", "fft"], { encoding: "utf8" });
  return csv.trim().split("\n").slice(1).filter((r) => r.includes(`,${service},`));
}

/** A page on the Chorus server's origin holding `body` (the tablet's page). */
async function kioskPage(body, viewport = { width: 800, height: 1000 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.route(`${server.url}/kiosk-test/`, (route) =>
    route.fulfill({
      contentType: "text/html; charset=utf-8",
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Waiting room tablet</title>
<script src="/embed/chorus.js" defer></script></head>
<body><main><h1>Tell us about your visit</h1>${body}</main></body></html>`,
    }),
  );
  await page.goto(`${server.url}/kiosk-test/`);
  return { context, page, errors };
}

/** Everything the widget's shadow root holds as text and markup, plus the value of every control. */
const widgetState = (page, tag) =>
  page.locator(tag).evaluate((el) => ({
    html: el.shadowRoot.innerHTML,
    values: [...el.shadowRoot.querySelectorAll("textarea, input[type=text]")].map((t) => t.value),
    checked: [...el.shadowRoot.querySelectorAll("input")].filter((i) => i.checked).length,
    focused: el.shadowRoot.activeElement ? el.shadowRoot.activeElement.outerHTML : null,
  }));

const storage = (page) => page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));

const COMMENT = "The nurse on the desk remembered my name";

test("after sending, the kiosk thanks the patient, then clears for the next one with nothing of theirs left", async () => {
  const { context, page, errors } = await kioskPage(
    `<chorus-fft site="demo" service="kiosk-reset" kiosk kiosk-reset="2"></chorus-fft>`,
  );
  const fft = page.locator("chorus-fft");
  await fft.getByRole("radio", { name: "Good", exact: true }).check();
  await fft.locator("#q-why").fill(COMMENT);
  // Nothing the patient typed is kept on the device while they fill it in (no draft).
  await page.waitForTimeout(300);
  assert.ok(!(await storage(page)).includes("remembered"), "a kiosk keeps no draft of the answers");
  await fft.locator("button[type=submit]").click();
  const receipt = fft.getByText(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/);
  await receipt.waitFor({ timeout: 15_000 });
  const reference = (await receipt.textContent()).match(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/)[0];
  await fft.getByText("ready for the next person").waitFor();
  assert.equal(await fft.locator("input[type=radio]").count(), 0, "the thanks replace the form");

  // A few seconds later: a fresh, empty form, with focus at its start.
  await fft.locator("input[type=radio]").first().waitFor({ timeout: 10_000 });
  const fresh = await widgetState(page, "chorus-fft");
  assert.equal(fresh.checked, 0, "no answer is still chosen");
  assert.ok(fresh.values.every((v) => v === ""), `the comment boxes are empty: ${fresh.values}`);
  assert.ok(!fresh.html.includes(reference), "the previous patient's receipt is gone");
  assert.ok(!fresh.html.includes("remembered"), "the previous patient's comment is gone");
  assert.ok(!fresh.html.includes("Thank you"), "the thanks are gone");
  assert.match(fresh.focused ?? "", /^<h2[^>]*class="chorus-heading"/, "focus is back at the start of the form");
  assert.ok(!(await storage(page)).includes("remembered"), "nothing of the answers stays in storage");

  // Stored as collected on a tablet.
  let rows = exported("kiosk-reset");
  assert.equal(rows.length, 1, rows.join("\n"));
  assert.match(rows[0], /,tablet$/, "the mode is the export's last column");

  // The next patient's answer is a response of its own (a new idempotency key), not a replay.
  await fft.getByRole("radio", { name: "Very poor", exact: true }).check();
  await fft.locator("button[type=submit]").click();
  await fft.getByText(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/).waitFor({ timeout: 15_000 });
  const second = (await fft.getByText(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/).textContent()).match(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/)[0];
  assert.notEqual(second, reference);
  rows = exported("kiosk-reset");
  assert.equal(rows.length, 2, rows.join("\n"));
  assert.deepEqual(errors, []);
  await context.close();
});

test("a half-filled kiosk form left alone is cleared after a polite warning, and a touch keeps it", async () => {
  const { context, page, errors } = await kioskPage(
    `<chorus-fft site="demo" service="kiosk-idle" kiosk kiosk-idle="3"></chorus-fft>`,
  );
  const fft = page.locator("chorus-fft");
  await fft.getByRole("radio", { name: "Poor", exact: true }).check();
  await fft.locator("#q-why").fill(COMMENT);
  const region = fft.locator("[part=kiosk-warning]");
  assert.equal(await region.getAttribute("aria-live"), "assertive", "the warning region is live before it speaks");
  const warning = fft.getByText("Are you still there?");
  await warning.waitFor({ timeout: 5_000 });
  // The patient is still there: the warning goes and the answers stay.
  await fft.getByRole("button", { name: "I am still here" }).click();
  await warning.waitFor({ state: "detached", timeout: 2_000 });
  let state = await widgetState(page, "chorus-fft");
  assert.equal(state.checked, 1);
  assert.ok(state.values.includes(COMMENT));
  // Left alone again: warned, then cleared.
  await warning.waitFor({ timeout: 5_000 });
  await page.waitForFunction(
    () => [...document.querySelector("chorus-fft").shadowRoot.querySelectorAll("input")].every((i) => !i.checked),
    null,
    { timeout: 5_000 },
  );
  state = await widgetState(page, "chorus-fft");
  assert.ok(state.values.every((v) => v === ""), `the comment is gone: ${state.values}`);
  assert.ok(!state.html.includes("remembered") && !state.html.includes("still there"));
  assert.match(state.focused ?? "", /^<h2[^>]*class="chorus-heading"/, "focus is back at the start of the form");
  assert.equal(exported("kiosk-idle").length, 0, "a cleared form sends nothing");
  // An untouched empty form is not "cleared" again and again: it just waits.
  await page.waitForTimeout(3_500);
  assert.equal(await warning.count(), 0, "no warning on an empty form");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the kiosk FFT and form have large touch targets and pass axe at 320 px", async () => {
  const { context, page, errors } = await kioskPage(
    `<chorus-fft site="demo" service="kiosk-axe" kiosk kiosk-idle="15" kiosk-reset="30"></chorus-fft>
     <chorus-fft site="demo" service="kiosk-plain" id="plain"></chorus-fft>
     <chorus-form site="demo" instrument="i-statements" kiosk></chorus-form>`,
    { width: 320, height: 640 },
  );
  const fft = page.locator("chorus-fft[kiosk]");
  await fft.locator("input[type=radio]").first().waitFor();
  await page.locator("chorus-form input").first().waitFor({ timeout: 15_000 });
  const size = (loc) => loc.evaluate((el) => el.getBoundingClientRect().height);
  const radio = await size(fft.locator("input[type=radio]").first());
  const plain = await size(page.locator("#plain input[type=radio]").first());
  assert.ok(radio >= 56 && radio > plain, `kiosk radios are large (${radio}px, ${plain}px without kiosk)`);
  assert.ok((await size(fft.locator("button[type=submit]"))) >= 56, "the send button is a large target");
  await expectFits(page, "the page");
  await axe(page, "first view");
  await fft.getByRole("radio", { name: "Good", exact: true }).check();
  // Warned 10 s after the last touch, cleared at 15 s: time for axe to look at the warning.
  const warning = fft.getByText("Are you still there?");
  await warning.waitFor({ timeout: 15_000 });
  await axe(page, "idle warning");
  assert.equal(await warning.count(), 1, "axe looked at the warning (the form was not yet cleared)");
  await fft.getByRole("button", { name: "I am still here" }).click();
  await fft.locator("button[type=submit]").click();
  await fft.getByText("ready for the next person").waitFor({ timeout: 15_000 });
  await axe(page, "thanks");
  await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/kiosk-320.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

async function axe(page, state) {
  for (const tag of ["chorus-fft[kiosk]", "chorus-form[kiosk]"]) {
    await expectNoAxeViolations(page, `${tag} ${state}`, { include: tag });
  }
}
