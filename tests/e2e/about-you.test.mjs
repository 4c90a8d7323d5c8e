// The optional "About you" questions (equality monitoring) in <chorus-fft about-you>: asked
// after the feedback and before its one send; some answered and some left out, the answers
// read back from the database (their own column, nothing else); skipping sends no `about`;
// nothing shown on the receipt or left on the device; axe clean at 320px in English, Welsh and
// the fetched drafts (Polish; Urdu and Arabic right to left), each shown in its own words; and a server that does not ask them (site not in
// `[equality]`) still stores the feedback, while the web team is told.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { browser, expectFits, expectNoAxeViolations, server, startServer, useServerAndBrowser } from "./support.mjs";

// The built-in demo configuration lists its site ("demo") in [equality].
useServerAndBrowser();

/** The stored `about` of each response of `service`, oldest first (the sqlite3 CLI). */
function storedAbout(srv, service) {
  const file = srv.database.replace(/^sqlite:\/\//, "");
  const out = execFileSync("sqlite3", ["-json", file, `SELECT about, answers FROM responses WHERE service = '${service}' ORDER BY id`], { encoding: "utf8" });
  return out.trim() ? JSON.parse(out) : [];
}

/**
 * A page on `srv`'s origin with one `<chorus-fft>` of these attributes, at 320px. Records
 * `chorus:error` codes, console lines and every submission body sent.
 */
async function open(srv, attrs, { lang = "en" } = {}) {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  const seen = { errors: [], console: [], bodies: [] };
  page.on("console", (m) => seen.console.push(m.text()));
  page.on("request", (r) => {
    if (r.url().endsWith("/api/v1/responses") && r.method() === "POST") seen.bodies.push(JSON.parse(r.postData()));
  });
  await page.exposeFunction("__chorusError", (code) => seen.errors.push(code));
  await page.addInitScript(() => document.addEventListener("chorus:error", (e) => window.__chorusError(e.detail.code)));
  await page.route(`${srv.url}/about-you-test`, (route) =>
    route.fulfill({
      contentType: "text/html; charset=utf-8",
      body: `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>About you test</title><script src="/embed/chorus.js" defer></script></head><body><main><h1>Feedback</h1><chorus-fft site="demo" ${attrs}></chorus-fft></main></body></html>`,
    }),
  );
  await page.goto(`${srv.url}/about-you-test`);
  const fft = page.locator("chorus-fft");
  await fft.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  return { context, page, fft, seen };
}

/** Answer the FFT and go on to the "About you" questions. */
async function toAboutYou(fft) {
  await fft.locator("#q-fft-1").check();
  await fft.locator("button[type=submit]").click();
  await fft.locator("[part~=about-you] #q-age_band").waitFor({ timeout: 15_000 });
}

test("answered About you questions are stored with the response; the ones left out are not; none is shown or kept", async () => {
  const { context, page, fft, seen } = await open(server, 'service="about-some" about-you');
  // The FFT page's button goes on to the questions rather than sending.
  assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "Continue");
  await toAboutYou(fft);
  assert.equal(seen.bodies.length, 0, "nothing is sent before the About you step is done");
  // The heading has focus, and the step says why it asks and who sees the answers.
  assert.equal(await fft.locator("h2.chorus-heading").evaluate((h) => h.getRootNode().activeElement === h), true);
  const text = await fft.locator("[part~=about-you]").innerText();
  assert.match(text, /only the patient experience team sees them/);
  assert.match(text, /Your feedback is sent whether you answer these or not/);
  // Every question offers "Prefer not to say".
  const questions = await fft.locator("[part~=about-you] fieldset").count();
  assert.equal(questions, 10);
  assert.equal(await fft.locator("[part~=about-you] label", { hasText: /^Prefer not to say$/ }).count(), questions);
  // Two answered, one "prefer not to say", the rest left out.
  await fft.getByLabel("25 to 34", { exact: true }).check();
  await fft.getByLabel("Asian or Asian British: Indian", { exact: true }).check();
  // (The last of religion's nine answers.)
  await fft.locator("#q-religion-8").check();
  // While they are on screen, nothing of them is kept on the device (the draft holds the
  // feedback only).
  const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));
  for (const id of ["25_34", "asian_indian", "age_band", "religion"]) assert.ok(!stored.includes(id), `"${id}" is in storage: ${stored}`);
  await fft.getByRole("button", { name: "Send feedback" }).click();
  const panel = fft.locator(".chorus-panel");
  await panel.waitFor({ timeout: 15_000 });
  // The receipt shows no characteristic.
  const receipt = await panel.innerText();
  for (const shown of ["25 to 34", "Indian", "Prefer not to say", "religion"]) assert.ok(!receipt.includes(shown), `the receipt shows "${shown}"`);
  assert.equal(seen.bodies.length, 1);
  assert.deepEqual(seen.bodies[0].about, { age_band: "25_34", ethnic_group: "asian_indian", religion: "prefer_not_to_say" });
  // Nothing left on the device: no queue entry, no draft.
  const kept = await page.evaluate(() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)].filter((k) => k.startsWith("chorus:")));
  assert.deepEqual(kept, []);
  // Stored in its own column, apart from the answers.
  const rows = storedAbout(server, "about-some");
  assert.equal(rows.length, 1);
  assert.deepEqual(JSON.parse(rows[0].about), { age_band: "25_34", ethnic_group: "asian_indian", religion: "prefer_not_to_say" });
  assert.ok(!rows[0].answers.includes("25_34"), "a characteristic was stored with the answers");
  assert.deepEqual(seen.errors, []);
  await context.close();
});

test("skipping the About you questions sends the feedback with no about, in one press", async () => {
  const { context, fft, seen } = await open(server, 'service="about-skip" about-you');
  await toAboutYou(fft);
  // An answer chosen and then skipped anyway: skipping sends none of them.
  await fft.getByLabel("Female", { exact: true }).check();
  await fft.getByRole("button", { name: "Skip these questions and send" }).first().click();
  await fft.locator(".chorus-panel").waitFor({ timeout: 15_000 });
  assert.equal(seen.bodies.length, 1);
  assert.ok(!("about" in seen.bodies[0]), "a skipped step sent about");
  const rows = storedAbout(server, "about-skip");
  assert.equal(rows.length, 1);
  assert.equal(rows[0].about, null);
  await context.close();
});

test("without the about-you attribute the FFT sends at once and asks nothing", async () => {
  const { context, fft, seen } = await open(server, 'service="about-off"');
  await fft.locator("#q-fft-1").check();
  await fft.getByRole("button", { name: "Send feedback" }).click();
  await fft.locator(".chorus-panel").waitFor({ timeout: 15_000 });
  assert.equal(await fft.locator("[part~=about-you]").count(), 0);
  assert.ok(!("about" in seen.bodies[0]));
  await context.close();
});

// Each language's heading, first question and "Prefer not to say" (the drafts' words from
// crates/widgets/locales/<tag>.json).
for (const [locale, dir, heading, age, prefer] of [
  ["en", "ltr", "About you (optional)", "How old are you?", "Prefer not to say"],
  ["cy", "ltr", "Amdanoch chi (dewisol)", "Faint yw eich oed?", "Mae'n well gen i beidio â dweud"],
  ["ar", "rtl", "عنك (اختياري)", "كم عمرك؟", "أفضّل عدم الإجابة"],
  ["pl", "ltr", "O Tobie (opcjonalnie)", "Ile masz lat?", "Wolę nie odpowiadać"],
  ["ur", "rtl", "آپ کے بارے میں (اختیاری)", "آپ کی عمر کتنی ہے؟", "بتانا نہیں چاہتے"],
]) {
  test(`the About you questions pass axe and fit 320px (${locale}, ${dir})`, async () => {
    const { context, page, fft } = await open(server, `service="about-axe" locale="${locale}" about-you`, { lang: locale });
    await toAboutYou(fft);
    assert.equal((await fft.locator("h2.chorus-heading").innerText()).trim(), heading);
    // The questions themselves in that language: the first one, and every question's "Prefer
    // not to say" (10 questions).
    const step = fft.locator("[part~=about-you]");
    assert.equal((await step.locator("fieldset legend").first().innerText()).trim(), age);
    assert.equal(await step.locator("label", { hasText: new RegExp(`^${prefer}$`) }).count(), 10);
    if (locale !== "en") {
      assert.equal(await step.locator("label", { hasText: /^Prefer not to say$/ }).count(), 0);
      assert.ok(!(await step.innerText()).includes("How old are you?"), `the ${locale} step shows the English question`);
    }
    const root = fft.locator("[part=root]");
    assert.equal(await root.getAttribute("lang"), locale);
    assert.equal(await root.getAttribute("dir"), dir);
    assert.equal(await fft.locator("[part~=about-you]").evaluate((f) => getComputedStyle(f).direction), dir);
    // No question is left in English in the Welsh or Arabic widget.
    if (locale !== "en") assert.equal(await fft.locator("[part~=about-you] [lang=en]").count(), 0);
    await expectNoAxeViolations(page, `About you (${locale})`, { include: "chorus-fft", minPasses: 5 });
    await expectFits(page, `About you (${locale})`);
    await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/about-you-${locale}-320.png`, fullPage: true });
    await context.close();
  });
}

test("a site not in [equality] still stores the feedback, without about, and the web team is told (sent live and from the offline queue)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-about-"));
  const config = join(dir, "chorus.toml");
  // The demo site, with no [equality]: it does not ask the About you questions.
  writeFileSync(config, `[[sites]]\nid = "demo"\nname = "No equality monitoring"\norigins = ["http://127.0.0.1:*"]\n`);
  const other = await startServer({ config });
  try {
    const { context, fft, seen } = await open(other, 'service="about-refused" about-you');
    await toAboutYou(fft);
    await fft.getByLabel("65 to 74", { exact: true }).check();
    await fft.getByRole("button", { name: "Send feedback" }).click();
    const panel = fft.locator(".chorus-panel");
    await panel.waitFor({ timeout: 15_000 });
    assert.match(await panel.innerText(), /Thank you, your answers have been sent/);
    // Tried with the answers, refused, sent again without them.
    assert.equal(seen.bodies.length, 2);
    assert.deepEqual(seen.bodies[0].about, { age_band: "65_74" });
    assert.ok(!("about" in seen.bodies[1]));
    assert.equal(seen.bodies[0].response.idempotency_key, seen.bodies[1].response.idempotency_key);
    assert.deepEqual(seen.errors, ["about_not_enabled"]);
    assert.ok(seen.console.some((l) => l.includes("about_not_enabled") && l.includes("[equality]")), seen.console.join("\n"));
    const rows = storedAbout(other, "about-refused");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].about, null);
    await context.close();

    // Queued offline with its answers, then refused them when delivered: delivered without.
    const q = await open(other, 'service="about-queued" about-you');
    await toAboutYou(q.fft);
    await q.fft.getByLabel("Male", { exact: true }).check();
    await q.context.setOffline(true);
    await q.fft.getByRole("button", { name: "Send feedback" }).click();
    await q.fft.locator("[part=queued]", { hasText: "Your answers are saved on this device" }).waitFor({ timeout: 20_000 });
    const queued = await q.page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith("chorus:queue:")));
    assert.equal(queued.length, 1);
    assert.match(queued[0][1], /"about":\{"sex":"male"\}/);
    await q.context.setOffline(false);
    await q.fft.locator(".chorus-panel", { hasText: "Thank you, your answers have been sent" }).waitFor({ timeout: 20_000 });
    assert.deepEqual(await q.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("chorus:"))), []);
    assert.ok(q.seen.console.some((l) => l.includes("about_not_enabled") && l.includes("queued")), q.seen.console.join("\n"));
    const queuedRows = storedAbout(other, "about-queued");
    assert.equal(queuedRows.length, 1);
    assert.equal(queuedRows[0].about, null);
    await q.context.close();
  } finally {
    await other.stop();
  }
});
