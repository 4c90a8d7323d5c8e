// <chorus-form> and <chorus-decision-aid> in a real browser: the I Statement journey across
// pages (error summary, check your answers, change an answer, send, receipt stored), the
// decision aid to its summary (lean, print view, saved file, anonymous send), Welsh, and
// axe-core on every state of both.
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

async function axe(page, tag, state) {
  await expectNoAxeViolations(page, `${tag} ${state}`, { include: tag });
  if (artifacts) await page.screenshot({ path: join(artifacts, `${tag}-${state.replace(/\W+/g, "-")}.png`), fullPage: true });
}

const REQUIRED_FORM = JSON.stringify({
  id: "e2e-required", version: 1, scoring: "i_statements",
  title: { en: "Short form", cy: "Ffurflen fer" },
  themes: [{ id: "t", title: { en: "Being heard", cy: "Cael eich clywed" } }],
  items: [
    { id: "s1", kind: "agreement", theme: "t", required: true, text: { en: "Staff listened to me.", cy: "Roedd staff yn gwrando arnaf." } },
    { id: "s2", kind: "agreement", theme: "t", text: { en: "I could ask questions.", cy: "Roeddwn i'n gallu gofyn cwestiynau." } },
  ],
});

test("a required statement left out: the error summary takes focus and its link reaches the field", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/`);
  await page.evaluate((json) => {
    const el = document.createElement("chorus-form");
    el.setAttribute("site", "demo");
    const s = document.createElement("script");
    s.type = "application/json";
    s.textContent = json;
    el.append(s);
    document.querySelector("main").append(el);
  }, REQUIRED_FORM);
  const form = page.locator("chorus-form");
  await form.locator("input[type=radio]").first().waitFor();
  await axe(page, "chorus-form", "inline first view");
  await form.locator("button[type=submit]").focus();
  await page.keyboard.press("Enter");
  const summary = form.locator(".chorus-error-summary");
  await summary.waitFor();
  assert.equal(await page.evaluate(() => document.querySelector("chorus-form").shadowRoot.activeElement.className), "chorus-error-summary");
  await axe(page, "chorus-form", "inline error");
  // Keyboard: Tab to the link, Enter → focus on the statement's first radio.
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.querySelector("chorus-form").shadowRoot.activeElement.id), "q-s1");
  // Arrow keys move within the radio group and select; then send on to check answers.
  await page.keyboard.press("ArrowDown");
  assert.equal(await form.getByLabel("Agree", { exact: true }).first().isChecked(), true);
  await form.locator("button[type=submit]").click();
  await form.getByText("Check your answers before sending").waitFor();
  await page.close();
});

test("the I Statement form across its pages: check your answers, change one, send, stored once", async () => {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}/feedback.html`);
  const form = page.locator("chorus-form");
  await form.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  const progress = async () => (await form.locator("[part=progress]").textContent()).trim();
  assert.match(await progress(), /page 1 of \d+/);
  const pages = Number((await progress()).match(/of (\d+)/)[1]);
  assert.ok(pages >= 6, `one page per theme, got ${pages}`);
  // Answer the first statement on every page ("Agree"), then continue.
  for (let p = 1; p <= pages; p++) {
    assert.match(await progress(), new RegExp(`page ${p} of ${pages}`));
    const first = form.locator("fieldset").first();
    if ((await first.locator("input[type=radio]").count()) > 0) await first.getByLabel("Agree", { exact: true }).check();
    else await form.locator("textarea").fill("The nurse, Sam, was kind. Call me on 07700 900123.");
    if (p === 1) await axe(page, "chorus-form", "page 1 answered");
    await form.locator("button[type=submit]").click();
  }
  await form.getByText("Check your answers before sending").waitFor();
  await axe(page, "chorus-form", "check your answers");
  const check = await form.locator("[part=form]").textContent();
  assert.match(check, /\[phone number\]/);
  assert.doesNotMatch(check, /07700/);
  // Change the first answer: back on page 1 with that field focused, then straight back.
  await form.locator(".chorus-summary-list__row button").first().click();
  assert.match(await progress(), /page 1 of/);
  assert.match(await page.evaluate(() => document.querySelector("chorus-form").shadowRoot.activeElement.id), /^q-/);
  await form.locator("fieldset").first().getByLabel("Strongly agree").check();
  await form.getByRole("button", { name: "Save and go back" }).click();
  await form.getByText("Check your answers before sending").waitFor();
  assert.match(await form.locator(".chorus-summary-list__row").first().textContent(), /Strongly agree/);
  // Send: the receipt's reference is shown and announced to the page.
  const submitted = page.evaluate(
    () => new Promise((ok) => document.querySelector("chorus-form").addEventListener("chorus:submitted", (e) => ok(e.detail.reference))),
  );
  await form.getByRole("button", { name: "Send answers" }).click();
  const reference = await submitted;
  assert.match(reference, /^CH-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  const panel = form.locator("[part=confirmation]");
  await panel.waitFor();
  assert.match(await panel.textContent(), new RegExp(reference));
  await axe(page, "chorus-form", "sent");
  // Stored exactly once, with the answer as changed and the comment redacted.
  const csv = execFileSync(process.env.CHORUS_BIN ?? join(import.meta.dirname, "../../target/debug/chorus"),
    ["export", "--database", server.database, "--instrument", "i-statements"], { encoding: "utf8" });
  const rows = csv.trim().split("\n").slice(1);
  assert.equal(rows.length, 1, csv);
  assert.ok(rows[0].includes(reference), csv);
  assert.match(rows[0], /strongly_agree/);
  assert.match(rows[0], /\[phone number\]/);
  assert.doesNotMatch(rows[0], /07700/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the decision aid: grid, values, knowledge, SURE, then a summary to print, save and send", async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${server.url}/decision-aid.html`);
  const aid = page.locator("chorus-decision-aid");
  await aid.locator("table").waitFor({ timeout: 15_000 });
  await axe(page, "chorus-decision-aid", "option grid");
  // Narrow screens stack the grid: no horizontal scrolling at 320 px.
  await page.setViewportSize({ width: 320, height: 800 });
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 320), true, "no horizontal scroll at 320px");
  await page.setViewportSize({ width: 1024, height: 800 });
  await aid.locator("button[type=submit]").click();
  // Values: leave them out once to see the error summary, then rate each.
  await aid.locator("button[type=submit]").click();
  await aid.locator(".chorus-error-summary").waitFor();
  await axe(page, "chorus-decision-aid", "values error");
  const groups = aid.locator("fieldset");
  const n = await groups.count();
  for (let i = 0; i < n; i++) await groups.nth(i).getByLabel(String((i * 3) % 11), { exact: true }).check();
  await aid.locator("button[type=submit]").click();
  // Knowledge: each answer gets feedback at once.
  const questions = aid.locator("fieldset");
  for (let i = 0; i < (await questions.count()); i++) await questions.nth(i).locator("input").first().check();
  assert.ok((await aid.locator("[part=feedback]").count()) > 0);
  await axe(page, "chorus-decision-aid", "knowledge feedback");
  await aid.locator("button[type=submit]").click();
  // SURE.
  const sure = aid.locator("fieldset");
  for (let i = 0; i < (await sure.count()); i++) await sure.nth(i).getByLabel("Yes", { exact: true }).check();
  await aid.locator("button[type=submit]").click();
  const summary = aid.locator("[part=summary]");
  await summary.waitFor();
  const text = await summary.textContent();
  assert.match(text, /Your answers (lean towards: .+|do not lean clearly towards one option)\./);
  assert.match(text, /You answered \d of \d questions correctly/);
  await axe(page, "chorus-decision-aid", "summary");
  // Print view: the buttons are hidden, the summary is not.
  await page.emulateMedia({ media: "print" });
  assert.equal(await aid.getByRole("button", { name: "Print your summary" }).isVisible(), false);
  assert.equal(await summary.isVisible(), true);
  if (artifacts) await page.screenshot({ path: join(artifacts, "chorus-decision-aid-print.png"), fullPage: true });
  await page.emulateMedia({ media: "screen" });
  // Save: a text file with the same summary.
  const [download] = await Promise.all([page.waitForEvent("download"), aid.getByRole("button", { name: "Save your summary" }).click()]);
  assert.equal(download.suggestedFilename(), "decision-summary.txt");
  const saved = readFileSync(await download.path(), "utf8");
  assert.match(saved, /Your summary/);
  assert.match(saved, /questions correctly/);
  // Anonymous sending (the page opted in with `send`).
  await aid.getByRole("button", { name: "Send my answers anonymously" }).click();
  await aid.locator("[part=confirmation]").waitFor();
  assert.match(await aid.locator("[part=confirmation]").textContent(), /CH-[0-9A-Z]{4}-[0-9A-Z]{4}/);
  await context.close();
});

test("the Welsh page gets both widgets in Welsh", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/cy.html`);
  const form = page.locator("chorus-form");
  await form.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  assert.match(await form.locator("[part=progress]").textContent(), /tudalen 1 o \d+/);
  assert.ok(await form.getByLabel("Cytuno'n gryf").first().isVisible());
  await axe(page, "chorus-form", "welsh first view");
  await form.locator("button[type=submit]").click();
  assert.match(await form.locator("[part=progress]").textContent(), /tudalen 2 o/);
  // The decision aid on a Welsh page speaks Welsh too, and passes axe there.
  await page.evaluate(() => {
    const el = document.createElement("chorus-decision-aid");
    el.setAttribute("instrument", "aid-knee-pain");
    document.querySelector("main").append(el);
  });
  const aid = page.locator("chorus-decision-aid");
  await aid.locator("table").waitFor({ timeout: 15_000 });
  assert.match(await aid.locator("h2").first().textContent(), /Poen pen-glin/);
  assert.equal((await aid.locator("button[type=submit]").textContent()).trim(), "Parhau");
  await axe(page, "chorus-decision-aid", "welsh option grid");
  await page.close();
});

// Tab until `predicate(active element inside the widget)` holds; fails after `max` presses.
async function tabTo(page, tag, predicate, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const ok = await page.evaluate(
      ([tag, src]) => {
        const a = document.querySelector(tag).shadowRoot.activeElement;
        return !!a && new Function("a", `return (${src})(a)`)(a);
      },
      [tag, predicate.toString()],
    );
    if (ok) return;
  }
  throw new Error(`Tab never reached ${predicate}`);
}

test("keyboard alone: the SURE form from the first radio to the receipt", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/`);
  await page.evaluate(() => {
    const el = document.createElement("chorus-form");
    el.setAttribute("instrument", "sure");
    el.setAttribute("site", "demo");
    document.querySelector("main").prepend(el);
    document.querySelector("chorus-fft").remove();
  });
  const form = page.locator("chorus-form");
  await form.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  await tabTo(page, "chorus-form", (a) => a.id === "q-sure-sure");
  // Each yes/no group is one Tab stop; Space chooses the focused answer ("Yes").
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press("Space");
    if (i < 3) await page.keyboard.press("Tab");
  }
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await form.getByText("Check your answers before sending").waitFor();
  assert.equal((await form.locator(".chorus-summary-list__value").allTextContents()).join(","), "Yes,Yes,Yes,Yes");
  await tabTo(page, "chorus-form", (a) => a.textContent === "Send answers");
  await page.keyboard.press("Enter");
  const panel = form.locator("[part=confirmation]");
  await panel.waitFor();
  assert.match(await panel.textContent(), /CH-[0-9A-Z]{4}-[0-9A-Z]{4}/);
  // Focus moved to the confirmation, so a screen reader announces it.
  assert.equal(await page.evaluate(() => document.querySelector("chorus-form").shadowRoot.activeElement.getAttribute("part")), "confirmation");
  await page.close();
});

test("an NHS.UK frontend page: each element renders in the widget's own look", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/nhsuk.html`);
  for (const tag of ["chorus-fft", "chorus-form", "chorus-decision-aid"]) {
    const el = page.locator(tag);
    await el.locator("button").first().waitFor({ timeout: 15_000 });
    // The page's own CSS does not reach into the shadow root: the widget's button keeps the
    // NHS.UK green it draws itself, and its font comes from its own token.
    const bg = await el.locator(".chorus-button").first().evaluate((b) => getComputedStyle(b).backgroundColor);
    assert.equal(bg, "rgb(0, 127, 59)", `${tag} button colour`);
  }
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontFamily.includes("Frutiger")), true, "the page uses NHS.UK frontend's CSS");
  await axe(page, "chorus-form", "nhsuk page");
  if (artifacts) await page.screenshot({ path: join(artifacts, "nhsuk-page.png"), fullPage: true });
  await page.close();
});

test("an FFT setting variant: its extra question is asked and stored under its own instrument", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/`);
  await page.evaluate(() => {
    const el = document.querySelector("chorus-fft");
    el.setAttribute("instrument", "fft-ae");
    el.replaceWith(el.cloneNode(true));
  });
  const fft = page.locator("chorus-fft");
  await fft.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  await axe(page, "chorus-fft", "variant first view");
  await fft.getByLabel("Very good").check();
  await fft.getByLabel("Is there anything we could have done better?").fill("Shorter wait at triage.");
  await fft.getByRole("button", { name: "Send feedback" }).click();
  const panel = fft.locator("[part=confirmation]");
  await panel.waitFor();
  const reference = (await panel.textContent()).match(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/)[0];
  const csv = execFileSync(process.env.CHORUS_BIN ?? join(import.meta.dirname, "../../target/debug/chorus"),
    ["export", "--database", server.database, "--instrument", "fft-ae"], { encoding: "utf8" });
  const row = csv.trim().split("\n").slice(1).find((r) => r.includes(reference));
  assert.ok(row, csv);
  assert.match(row, /very_good/);
  assert.match(row, /Shorter wait at triage/);
  await page.close();
});

test("keyboard alone: the decision aid from its first page to an anonymous receipt", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/decision-aid.html`);
  const aid = page.locator("chorus-decision-aid");
  await aid.locator("table").waitFor({ timeout: 15_000 });
  const active = () =>
    page.evaluate(() => {
      const a = document.querySelector("chorus-decision-aid").shadowRoot.activeElement;
      if (!a) return null;
      const group = a.name ? [...a.getRootNode().querySelectorAll(`input[name="${a.name}"]`)] : [];
      return { tag: a.tagName, type: a.type, text: a.textContent.trim(), answered: group.some((r) => r.checked) };
    });
  // Each page: Tab through; Space answers any question not yet answered; Enter on the button.
  for (let pageNo = 0; pageNo < 8 && !(await aid.locator("[part=summary]").count()); pageNo++) {
    for (let presses = 0; presses < 80; presses++) {
      await page.keyboard.press("Tab");
      const a = await active();
      if (!a) continue;
      if (a.tag === "INPUT" && a.type === "radio" && !a.answered) await page.keyboard.press("Space");
      if (a.tag === "BUTTON" && /Continue|See your summary/.test(a.text)) {
        await page.keyboard.press("Enter");
        break;
      }
    }
  }
  await aid.locator("[part=summary]").waitFor();
  for (let presses = 0; presses < 30; presses++) {
    await page.keyboard.press("Tab");
    if ((await active())?.text === "Send my answers anonymously") break;
  }
  await page.keyboard.press("Enter");
  await aid.locator("[part=confirmation]").waitFor();
  assert.match(await aid.locator("[part=confirmation]").textContent(), /CH-[0-9A-Z]{4}-[0-9A-Z]{4}/);
  await page.close();
});
