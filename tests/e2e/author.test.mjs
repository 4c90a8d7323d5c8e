// The decision aid checker (issue #20): an author loads an example aid, edits it, and sees as
// they type what the core's check finds (the same answer `chorus check` gives), the IPDAS /
// NICE self-assessment, and a live preview drawn by the real widget, all from the keyboard,
// with axe clean and nothing sent from the preview.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { browser, expectNoAxeViolations, server, useServerAndBrowser } from "./support.mjs";

const artifacts = process.env.CHORUS_ARTIFACTS;
useServerAndBrowser(async () => {
  if (artifacts) mkdirSync(artifacts, { recursive: true });
});

/** The checker with an example aid loaded and checked. */
async function openWith(context, id) {
  const page = await context.newPage();
  const posted = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().includes("/api/v1/responses")) posted.push(r.url());
  });
  await page.goto(`${server.url}/author.html`);
  await page.locator(`#start option[value="${id}"]`).waitFor({ state: "attached" });
  await page.getByLabel("Start from").selectOption(id);
  await page.locator("#summary").filter({ hasText: "checked as of" }).waitFor();
  return { page, posted };
}

/** Replace the editor's text as a person would (select all, type), then wait for the check. */
async function edit(page, text, expect) {
  const box = page.getByLabel("The aid's file (JSON)");
  await box.focus();
  await page.keyboard.press("Control+A");
  await box.fill(text);
  await page.locator("#summary").filter({ hasText: expect }).waitFor();
}

test("a shipped aid passes, its self-assessment is shown, and the preview draws it with its icon arrays", async () => {
  const context = await browser.newContext();
  const { page, posted } = await openWith(context, "aid-statins");
  assert.match(await page.locator("#summary").textContent(), /^No errors and no warnings/);
  const rows = page.locator("#assessment-table tbody tr");
  assert.ok((await rows.count()) >= 10);
  assert.equal(await page.locator('#assessment-table tr[data-status="not_met"]').count(), 0);
  assert.ok((await page.locator('#assessment-table tr[data-status="sign_off"]').count()) > 0);
  assert.match(await page.locator("#assessment-markdown").textContent(), /^# Self-assessment: aid-statins/);
  // The preview is the real widget, from the editor's text (inline), with the aid's risks.
  const aid = page.locator("#preview chorus-decision-aid");
  await aid.locator("[part=icon-array]").first().waitFor({ timeout: 15_000 });
  assert.equal(await page.locator("#preview chorus-decision-aid > script[type='application/json']").count(), 1);
  await expectNoAxeViolations(page, "author.html with aid-statins", { minPasses: 10 });
  if (artifacts) await page.screenshot({ path: join(artifacts, "author-statins.png"), fullPage: true });
  assert.deepEqual(posted, [], "the preview sends nothing");
  await context.close();
});

test("as the author edits: lints name their criterion, errors stop the preview, and the answer is the CLI's", async () => {
  const context = await browser.newContext();
  const { page } = await openWith(context, "aid-knee-pain");
  const aid = JSON.parse(await page.getByLabel("The aid's file (JSON)").inputValue());
  assert.equal(aid.version, 2);
  // Lints: take away the waiting option's mark and write an intro well above reading age 9–11.
  const waiting = aid.options.find((o) => o.watchful_waiting);
  delete waiting.watchful_waiting;
  aid.intro.en = "Consideration of alternative therapeutic interventions necessitates comprehensive evaluation of individual circumstances, preferences and comorbidities.";
  const linted = JSON.stringify(aid, null, 2);
  await edit(page, linted, /and [1-9]\d* warnings? /);
  const warnings = page.locator("#findings .author__warning");
  const text = (await warnings.allTextContents()).join("\n");
  assert.match(text, /Criterion: IPDAS qualifying: Lists the options, including doing nothing or watchful waiting/);
  assert.match(text, /\$\.intro\.en \(reading_age\)/);
  assert.ok((await page.locator('#assessment-table tr[data-status="not_met"]').count()) > 0);
  // The preview still draws a usable aid with warnings.
  await page.locator("#preview chorus-decision-aid table").waitFor({ timeout: 15_000 });
  await expectNoAxeViolations(page, "author.html with warnings", { minPasses: 10 });
  // The page's findings are `chorus check`'s, line for line.
  const bin = process.env.CHORUS_BIN ?? join(import.meta.dirname, "../../target/debug/chorus");
  const file = join(process.env.CHORUS_ARTIFACTS ?? "/tmp", `author-linted-${process.pid}.json`);
  writeFileSync(file, linted);
  const cli = execFileSync(bin, ["check", file], { encoding: "utf8" });
  const cliWarnings = cli.split("\n").filter((l) => l.startsWith("warning ")).length;
  assert.equal(await warnings.count(), cliWarnings, cli);
  assert.match(await page.locator("#summary").textContent(), new RegExp(`0 errors and ${cliWarnings} warning`));
  // An error (an option id used twice): the summary says so and the preview waits.
  aid.options[1].id = aid.options[0].id;
  await edit(page, JSON.stringify(aid), /^[1-9]\d* errors? /);
  assert.ok((await page.locator("#findings .author__error").count()) > 0);
  assert.match(await page.locator("#preview").textContent(), /once the errors are fixed/);
  // Not JSON at all: one error, named as such.
  await edit(page, "{ not json", /^1 error and 0 warnings/);
  assert.match(await page.locator("#findings").textContent(), /invalid_json/);
  assert.match(await page.locator("#preview").textContent(), /once the file is valid JSON/);
  await context.close();
});
