// Decision-aid risks in a real browser (issue #20): aid-statins draws each outcome as numbers
// in words (both framings, and the range) beside an icon array that assistive technology skips;
// the arrays keep filled and empty squares apart in forced colours and in print; "About this
// aid" and the risks are in the printed summary; an aid past its review date says so to the
// patient and warns in the console; the "questions I want to ask" box works from the keyboard,
// is saved with the summary, is sent (redacted) only when the patient sends, and print and save
// still work afterwards.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { browser, expectNoAxeViolations, server, useServerAndBrowser } from "./support.mjs";

const artifacts = process.env.CHORUS_ARTIFACTS;
useServerAndBrowser(async () => {
  if (artifacts) mkdirSync(artifacts, { recursive: true });
});

const STATINS = readFileSync(join(import.meta.dirname, "../../crates/core/instruments/aid-statins.json"), "utf8");
const TAG = "chorus-decision-aid";

async function axe(page, state) {
  await expectNoAxeViolations(page, `${TAG} ${state}`, { include: TAG });
  if (artifacts) await page.screenshot({ path: join(artifacts, `aid-risks-${state.replace(/\W+/g, "-")}.png`), fullPage: true });
}

/** The demo page with aid-statins, once its icon arrays are drawn. */
async function openStatins(context) {
  const page = await context.newPage();
  await page.goto(`${server.url}/decision-aid-statins.html`);
  const aid = page.locator(TAG);
  await aid.locator("[part=icon-array]").first().waitFor({ timeout: 15_000 });
  return { page, aid };
}

/** How many squares each path of an icon array draws (one `M` per square). */
async function squares(array) {
  return array.evaluate((svg) => [".chorus-icons__on", ".chorus-icons__off"].map((s) => (svg.querySelector(s).getAttribute("d").match(/M/g) ?? []).length));
}

/** Through the values, knowledge and SURE pages to the summary. */
async function toSummary(aid) {
  await aid.locator("button[type=submit]").click();
  const values = aid.locator("fieldset");
  for (let i = 0; i < (await values.count()); i++) await values.nth(i).getByLabel(String(3 + i), { exact: true }).check();
  await aid.locator("button[type=submit]").click();
  const knowledge = aid.locator("fieldset");
  for (let i = 0; i < (await knowledge.count()); i++) await knowledge.nth(i).locator("input").first().check();
  await aid.locator("button[type=submit]").click();
  const sure = aid.locator("fieldset");
  for (let i = 0; i < (await sure.count()); i++) await sure.nth(i).getByLabel("Yes", { exact: true }).check();
  await aid.locator("button[type=submit]").click();
  await aid.locator("[part=summary]").waitFor();
}

test("aid-statins: each option's chance in words, both framings, beside an icon array hidden from assistive technology", async () => {
  const context = await browser.newContext();
  const { page, aid } = await openStatins(context);
  const outcomes = aid.locator("[part=outcome]");
  assert.equal(await outcomes.count(), 2);
  const heart = await outcomes.first().textContent();
  assert.match(heart, /These numbers are for: People aged 50 to 70 with high cholesterol and no heart disease/);
  assert.match(heart, /Over 10 years, 7 out of 100 people have a heart attack or stroke\./);
  assert.match(heart, /93 out of 100 people do not have a heart attack or stroke\./);
  assert.match(heart, /Over 10 years, 10 out of 100 people have a heart attack or stroke\./);
  assert.match(heart, /The true number could be anywhere from 5 to 9 out of 100\./);
  // A range that is only the rate itself (0 to 0 with no statin) is not said.
  const aches = await outcomes.nth(1).textContent();
  assert.match(aches, /from 10 to 30 out of 1000/);
  assert.doesNotMatch(aches, /from 0 to 0/);
  // Four arrays: 100 people for the heart outcome, 1000 for aching muscles; events filled first.
  const arrays = aid.locator("svg[part=icon-array]");
  assert.equal(await arrays.count(), 4);
  assert.deepEqual(await squares(arrays.nth(0)), [7, 93]);
  assert.deepEqual(await squares(arrays.nth(1)), [10, 90]);
  assert.deepEqual(await squares(arrays.nth(2)), [20, 980]);
  assert.deepEqual(await squares(arrays.nth(3)), [0, 1000]);
  for (let i = 0; i < 4; i++) assert.equal(await arrays.nth(i).getAttribute("aria-hidden"), "true");
  // Drawn, at a size a patient can count (a 10 × 10 array at least 100px wide).
  const box = await arrays.nth(0).boundingBox();
  assert.ok(box.width >= 100 && box.height >= 100, JSON.stringify(box));
  // The accessibility tree has the sentences and no trace of the squares.
  const tree = await page.locator(TAG).ariaSnapshot();
  assert.match(tree, /7 out of 100 people have a heart attack or stroke/);
  assert.doesNotMatch(tree, /img|graphics/);
  await axe(page, "outcomes");
  // About this aid: folded on the first page, opened from the keyboard.
  const about = aid.locator("details[part=about-aid]");
  assert.equal(await about.locator("dl").isVisible(), false);
  await about.locator("summary").focus();
  await page.keyboard.press("Enter");
  assert.equal(await about.locator("dl").isVisible(), true);
  const text = await about.textContent();
  for (const want of ["Written by", "Chorus project team (example content)", "Date produced", "20 November 2026", "Next review due", "20 November 2027", "No outside funding", "no conflicts of interest", "It does not take the place of talking with your GP or nurse", "Evidence used", "chorus-example-figures-2026"]) {
    assert.ok(text.includes(want), `about has ${want}: ${text}`);
  }
  assert.equal(await about.locator('a[href="https://www.nice.org.uk/guidance/ng238"]').count(), 1);
  assert.equal(await aid.locator("[part=review-note]").count(), 0, "in date: no review note");
  await axe(page, "about this aid open");
  // 320px wide: the arrays shrink with the screen, nothing scrolls sideways.
  await page.setViewportSize({ width: 320, height: 800 });
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 320), true);
  await context.close();
});

test("forced colours: filled and empty squares stay apart, in the system's colours", async () => {
  const context = await browser.newContext();
  const { page, aid } = await openStatins(context);
  const style = (sel) =>
    aid.locator(`svg[part=icon-array] ${sel}`).first().evaluate((p) => {
      const s = getComputedStyle(p);
      return { fill: s.fill, stroke: s.stroke, adjust: getComputedStyle(p.closest("svg")).forcedColorAdjust };
    });
  // Normally: filled in the icon token (the brand colour by default), empty on the background.
  const on = await style(".chorus-icons__on");
  const off = await style(".chorus-icons__off");
  assert.equal(on.fill, "rgb(0, 94, 184)");
  assert.equal(off.fill, "rgb(255, 255, 255)");
  assert.equal(off.stroke, on.fill);
  await page.emulateMedia({ forcedColors: "active" });
  const [fOn, fOff, canvas, text] = [
    await style(".chorus-icons__on"),
    await style(".chorus-icons__off"),
    await page.evaluate(() => { const d = document.createElement("div"); d.style.color = "Canvas"; document.body.append(d); const c = getComputedStyle(d).color; d.remove(); return c; }),
    await page.evaluate(() => { const d = document.createElement("div"); d.style.color = "CanvasText"; document.body.append(d); const c = getComputedStyle(d).color; d.remove(); return c; }),
  ];
  assert.equal(fOn.adjust, "none");
  assert.notEqual(canvas, text, "the system's text and page colours differ");
  assert.equal(fOn.fill, text, "filled squares in CanvasText");
  assert.equal(fOn.stroke, text);
  assert.equal(fOff.fill, canvas, "empty squares on Canvas");
  assert.equal(fOff.stroke, text, "with a CanvasText outline");
  assert.notEqual(fOn.fill, fOff.fill);
  // The key beside each sentence: a square filled by a thick border, or outlined by a thin one
  // (borders survive forced colours and print, where backgrounds may not).
  const key = (sel) => aid.locator(sel).first().evaluate((p) => {
    const s = getComputedStyle(p, "::before");
    return { width: parseFloat(s.borderTopWidth), colour: s.borderTopColor, size: parseFloat(s.width) };
  });
  const [kOn, kOff] = [await key(".chorus-keyed--on"), await key(".chorus-keyed--off")];
  assert.equal(kOn.width * 2, kOn.size, "the filled key is all border");
  assert.ok(kOff.width <= 2, `the empty key is an outline (${kOff.width}px)`);
  assert.equal(kOn.colour, text);
  assert.equal(kOff.colour, text);
  await axe(page, "forced colours");
  await context.close();
});

test("the summary: risks in numbers and icons, questions from the keyboard, About this aid; printed, saved, sent redacted, and still printed and saved after", async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const { page, aid } = await openStatins(context);
  await toSummary(aid);
  const summary = aid.locator("[part=summary]");
  const text = await summary.textContent();
  assert.match(text, /Over 1 year, 20 out of 1000 people get aching muscles that make them stop\./);
  assert.equal(await summary.locator("svg[part=icon-array]").count(), 4);
  assert.match(await summary.locator("[part=about-aid]").textContent(), /About this aid.*Next review due20 November 2027/s);
  // The questions box: reached with Tab, typed into, and its hint says it is sent only if the
  // patient sends (this page allows sending, and the aid has an item for it).
  const box = aid.getByLabel("Questions I want to ask");
  for (let i = 0; i < 60 && !(await box.evaluate((b) => b.getRootNode().activeElement === b)); i++) await page.keyboard.press("Tab");
  assert.equal(await box.evaluate((b) => b.getRootNode().activeElement === b), true, "Tab reaches the questions box");
  await page.keyboard.type("Can I take it at night?");
  await page.keyboard.press("Enter");
  await page.keyboard.type("Ring me on 07700 900123 about the blood test.");
  assert.equal(await box.inputValue(), "Can I take it at night?\nRing me on 07700 900123 about the blood test.");
  assert.match(await aid.locator("[part=questions]").textContent(), /If you choose to send your answers, your questions are sent too/);
  // Sendable, so the patient sees how it would be stored.
  assert.match(await aid.locator("[part=redaction-preview]").textContent(), /\[phone number\]/);
  await axe(page, "summary with questions");
  // Print: the buttons and the text box go, the risks, the questions (as text) and About stay.
  await page.emulateMedia({ media: "print" });
  assert.equal(await aid.getByRole("button", { name: "Print your summary" }).isVisible(), false);
  assert.equal(await box.isVisible(), false);
  assert.equal(await summary.locator(".chorus-print-only").isVisible(), true);
  assert.match(await summary.locator(".chorus-print-only").textContent(), /Can I take it at night\?/);
  assert.equal(await summary.locator("[part=about-aid]").isVisible(), true);
  assert.equal(await summary.locator("[part=outcome]").first().isVisible(), true);
  const printed = await summary.locator("svg[part=icon-array]").first().boundingBox();
  assert.ok(printed && printed.width > 50, "icon arrays are printed");
  if (artifacts) await page.screenshot({ path: join(artifacts, "aid-risks-print.png"), fullPage: true });
  await page.emulateMedia({ media: "screen" });
  // Save: the file has the risks, the questions as the patient wrote them, and About.
  const saveNow = async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), aid.getByRole("button", { name: "Save your summary" }).click()]);
    return readFileSync(await download.path(), "utf8");
  };
  const saved = await saveNow();
  assert.match(saved, /The chances with each option\n\nHeart attack or stroke in the next 10 years\n/);
  assert.match(saved, /- Take a statin: Over 10 years, 7 out of 100 people have a heart attack or stroke\. 93 out of 100 people do not/);
  assert.match(saved, /Questions I want to ask\nCan I take it at night\?\nRing me on 07700 900123/);
  assert.match(saved, /About this aid\nWritten by: Chorus project team/);
  // Send: the questions go with the answers, redacted by the collector.
  await aid.getByRole("button", { name: "Send my answers anonymously" }).click();
  await aid.locator("[part=confirmation]").waitFor();
  const reference = (await aid.locator("[part=confirmation]").textContent()).match(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/)[0];
  const csv = execFileSync(process.env.CHORUS_BIN ?? join(import.meta.dirname, "../../target/debug/chorus"),
    ["export", "--database", server.database, "--instrument", "aid-statins"], { encoding: "utf8" });
  const row = csv.split("\n").find((r) => r.includes(reference));
  assert.ok(row, csv);
  assert.match(row, /Can I take it at night\?/);
  assert.match(row, /\[phone number\]/);
  assert.doesNotMatch(row, /07700/);
  // After sending: the summary, the risks and the questions are still there to print and save.
  assert.equal(await summary.locator("svg[part=icon-array]").count(), 4);
  assert.match(await aid.locator("[part=questions]").textContent(), /Your questions stay on this device/);
  assert.match(await saveNow(), /Questions I want to ask\nCan I take it at night\?/);
  await page.emulateMedia({ media: "print" });
  assert.equal(await summary.locator("[part=about-aid]").isVisible(), true);
  assert.equal(await summary.locator(".chorus-print-only").isVisible(), true);
  await page.emulateMedia({ media: "screen" });
  await axe(page, "summary after sending");
  await context.close();
});

test("an aid with no questions item keeps the patient's questions on the device: never sent, no redaction preview", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const sent = [];
  page.on("request", (r) => { if (r.url().includes("/api/v1/responses")) sent.push(r.postData()); });
  await page.goto(`${server.url}/decision-aid.html`);
  const aid = page.locator(TAG);
  await aid.locator("table").waitFor({ timeout: 15_000 });
  await toSummary(aid);
  const box = aid.getByLabel("Questions I want to ask");
  await box.fill("My number is 07700 900123");
  assert.match(await aid.locator("[part=questions]").textContent(), /Your questions stay on this device\. They are not sent to anyone\./);
  assert.equal(await aid.locator("[part=redaction-preview]").count(), 0);
  await aid.getByRole("button", { name: "Send my answers anonymously" }).click();
  await aid.locator("[part=confirmation]").waitFor();
  assert.equal(sent.length, 1);
  assert.doesNotMatch(sent[0], /07700|_questions|My number/);
  await context.close();
});

test("an aid past its review date: a plain note for the patient (page and summary) and a console warning for the web team", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const warnings = [];
  page.on("console", (m) => { if (m.type() === "warning") warnings.push(m.text()); });
  await page.goto(`${server.url}/`);
  const old = JSON.parse(STATINS);
  old.id = "e2e-old-aid";
  old.about.produced = "2023-03-01";
  old.about.next_review = "2024-03-01";
  await page.evaluate((json) => {
    const el = document.createElement("chorus-decision-aid");
    const s = document.createElement("script");
    s.type = "application/json";
    s.textContent = json;
    el.append(s);
    document.querySelector("main").prepend(el);
  }, JSON.stringify(old));
  const aid = page.locator(TAG);
  const note = aid.locator("[part=review-note]");
  await note.first().waitFor({ timeout: 15_000 });
  assert.equal(await note.textContent(), "This aid was due to be checked and updated by 1 March 2024. Some of it may be out of date, so check anything important with your clinician.");
  assert.ok(warnings.some((w) => w.includes("e2e-old-aid") && w.includes("2024-03-01")), warnings.join("\n"));
  await axe(page, "review note");
  await toSummary(aid);
  const summaryNote = aid.locator("[part=summary] [part=review-note]");
  assert.match(await summaryNote.textContent(), /1 March 2024/);
  await page.emulateMedia({ media: "print" });
  assert.equal(await summaryNote.isVisible(), true, "the note is printed with About this aid");
  await context.close();
});

test("Welsh: the chances in Welsh sentences, About this aid in Welsh", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/cy.html`);
  await page.evaluate(() => {
    const el = document.createElement("chorus-decision-aid");
    el.setAttribute("instrument", "aid-statins");
    el.setAttribute("locale", "cy");
    document.querySelector("main").append(el);
  });
  const aid = page.locator(TAG);
  await aid.locator("[part=icon-array]").first().waitFor({ timeout: 15_000 });
  const text = await aid.locator("[part=outcome]").first().textContent();
  assert.match(text, /Dros 10 o flynyddoedd, mae 7 o bob 100 o bobl yn cael trawiad ar y galon neu strôc\./);
  assert.match(text, /Mae 93 o bob 100 o bobl heb gael trawiad ar y galon neu strôc\./);
  assert.match(await aid.locator("[part=about-aid] summary").textContent(), /Am y cymorth hwn/);
  await axe(page, "welsh outcomes");
  await context.close();
});
