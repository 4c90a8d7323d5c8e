// Client scores from the browser: each widget sends its own score report (`client_scores`,
// from the core's `score` in the wasm) with its response, and the server, which re-scores
// every response and trusts only its own, stores the client's report beside its own and
// counts any difference. Here `<chorus-fft>`, `<chorus-form>` (I Statements, with answers
// that give fractional theme scores) and `<chorus-decision-aid>` (with `send`) each post once:
// every request carries a report, every stored row has it beside the server's, equal value for
// value, with score_mismatch 0, and the server's mismatch counter stays at 0.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { browser, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

/** The stored rows, read straight from the server's SQLite file (Python's standard library). */
function storedRows() {
  const file = server.database.replace(/^sqlite:\/\//, "");
  const script = `
import json, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
rows = db.execute("SELECT instrument, scores, client_scores, score_mismatch FROM responses ORDER BY id").fetchall()
print(json.dumps([dict(instrument=r[0], scores=r[1], client_scores=r[2], score_mismatch=r[3]) for r in rows]))
`;
  return JSON.parse(execFileSync("python3", ["-c", script, file], { encoding: "utf8" }));
}

async function mismatches() {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("chorus_score_mismatches_total "));
  assert.ok(line, "the metrics name the mismatch counter");
  return Number(line.split(" ")[1]);
}

/** Open `path`, record the submissions the page posts and any page error. */
async function open(path, tag) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  const posted = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/api/v1/responses")) posted.push(r.postDataJSON());
  });
  await page.goto(`${server.url}${path}`);
  const el = page.locator(tag);
  const submitted = page.evaluate(
    (t) => new Promise((ok) => document.querySelector(t).addEventListener("chorus:submitted", (e) => ok(e.detail.reference))),
    tag,
  );
  return { context, page, el, errors, posted, submitted };
}

const sent = [];

/** A JSON value with every null-valued key removed. */
function withoutNulls(v) {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  return v;
}

test("<chorus-fft> sends its report", async () => {
  const { context, el, errors, posted, submitted } = await open("/", "chorus-fft");
  await el.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  await el.getByLabel("Poor", { exact: true }).check();
  await el.locator("#q-why").fill("The wait was long.");
  await el.locator("button[type=submit]").click();
  assert.match(await submitted, /^CH-/);
  assert.equal(posted.length, 1);
  assert.deepEqual(posted[0].response.client_scores, {
    instrument: "fft",
    version: 1,
    fft: { answer: "poor", category: "negative" },
  });
  sent.push(posted[0]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("<chorus-form> (I Statements) sends its report, fractional theme scores included", async () => {
  const { context, el, errors, posted, submitted } = await open("/feedback.html", "chorus-form");
  await el.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  const progress = async () => (await el.locator("[part=progress]").textContent()).trim();
  const pages = Number((await progress()).match(/of (\d+)/)[1]);
  // Every statement answered, the answer moving along the scale, so theme means are not whole.
  let k = 0;
  for (let p = 1; p <= pages; p++) {
    assert.match(await progress(), new RegExp(`page ${p} of ${pages}`));
    const sets = el.locator("fieldset");
    for (let i = 0; i < (await sets.count()); i++) {
      const radios = sets.nth(i).locator("input[type=radio]");
      const n = await radios.count();
      // The first five are the agreement scale; "does not apply" (if any) is left out.
      if (n > 0) await radios.nth((k++ * 3) % Math.min(n, 5)).check();
    }
    await el.locator("button[type=submit]").click();
  }
  await el.getByText("Check your answers before sending").waitFor();
  await el.getByRole("button", { name: "Send answers" }).click();
  assert.match(await submitted, /^CH-/);
  assert.equal(posted.length, 1);
  const report = posted[0].response.client_scores;
  assert.equal(report.instrument, "i-statements");
  assert.ok(report.i_statements.themes.length >= 6, JSON.stringify(report));
  const fractional = report.i_statements.themes.filter((t) => t.score && !Number.isInteger(t.score.value));
  assert.ok(fractional.length > 0, `some theme score is not a whole number: ${JSON.stringify(report.i_statements.themes)}`);
  assert.ok(report.i_statements.overall, "an overall score");
  sent.push(posted[0]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("<chorus-decision-aid send> sends its report", async () => {
  const { context, el, errors, posted, submitted } = await open("/decision-aid.html", "chorus-decision-aid");
  await el.locator("table").waitFor({ timeout: 15_000 });
  await el.locator("button[type=submit]").click();
  const groups = el.locator("fieldset");
  const n = await groups.count();
  for (let i = 0; i < n; i++) await groups.nth(i).getByLabel(String((i * 3 + 2) % 11), { exact: true }).check();
  await el.locator("button[type=submit]").click();
  const questions = el.locator("fieldset");
  for (let i = 0; i < (await questions.count()); i++) await questions.nth(i).locator("input").nth(i % 2).check();
  await el.locator("button[type=submit]").click();
  const sure = el.locator("fieldset");
  for (let i = 0; i < (await sure.count()); i++) await sure.nth(i).getByLabel(i === 0 ? "No" : "Yes", { exact: true }).check();
  await el.locator("button[type=submit]").click();
  await el.locator("[part=summary]").waitFor();
  await el.getByRole("button", { name: "Send my answers anonymously" }).click();
  assert.match(await submitted, /^CH-/);
  assert.equal(posted.length, 1);
  const report = posted[0].response.client_scores;
  assert.equal(report.instrument, "aid-knee-pain");
  for (const part of ["lean", "knowledge", "sure"]) assert.ok(report[part], `the aid's report has ${part}: ${JSON.stringify(report)}`);
  sent.push(posted[0]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("every stored row has the client's report beside the server's, equal, and nothing mismatched", async () => {
  assert.equal(sent.length, 3, "the three widgets posted");
  const rows = storedRows();
  assert.deepEqual(
    rows.map((r) => r.instrument),
    sent.map((s) => s.response.instrument),
  );
  for (const [i, row] of rows.entries()) {
    assert.equal(row.score_mismatch, 0, `${row.instrument}: score_mismatch`);
    assert.ok(row.client_scores, `${row.instrument}: the client's report is stored`);
    const server = JSON.parse(row.scores);
    const client = JSON.parse(row.client_scores);
    assert.deepEqual(client, server, `${row.instrument}: the client's report is the server's`);
    // And what was stored is what the browser sent (no string in these reports to redact; the
    // browser leaves absent values out, the server writes them as null).
    assert.deepEqual(withoutNulls(client), sent[i].response.client_scores, `${row.instrument}: stored as sent`);
  }
  assert.equal(await mismatches(), 0);
});
