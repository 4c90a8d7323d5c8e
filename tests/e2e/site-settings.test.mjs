// Site settings in a real browser at 320px: an admin adds an inpatient ward with its codes
// (after a mistake the error summary names), changes and removes services, sets retention, and
// the hosted page /f/{site}/{service} follows at once, with no restart. Then the FFT return's
// exports page shows a deadline and a CSV per setting and the preview of what publication would
// suppress. Every page has no WCAG 2.2 A/AA violations (axe-core) and fits a 320px screen; the
// forms work with JavaScript off.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ARTIFACTS, browser, expectAccessibleAndFits, phonePage, server, signInWithPassword, useSmallSeededDemo } from "./support.mjs";

const admin = useSmallSeededDemo();

async function signIn(page) {
  await signInWithPassword(page, admin);
  await page.waitForURL(/\/dashboard$/);
}

test("an admin changes a site's services and retention, and the hosted pages follow at once", async () => {
  // The dashboard's CSP lets no script of its own run, so the forms work as they would with
  // JavaScript off; script is on only for axe, which the browser runs from outside the page.
  const { context, page } = await phonePage();
  await signIn(page);
  // The demo site accepts any service before: a made-up one has a hosted page.
  assert.equal((await page.goto(`${server.url}/f/demo/anything-at-all`)).status(), 200);

  await page.goto(`${server.url}/dashboard`);
  await page.getByRole("link", { name: "Site settings" }).click();
  await page.waitForURL(/\/dashboard\/sites\/demo$/);
  await expectAccessibleAndFits(page, "site settings");
  assert.match(await page.locator("#no-services").textContent(), /accepts any service/);

  // A mistake: an inpatient ward with a two-digit specialty code. Nothing is stored.
  await page.getByLabel("Service id").fill("ward-3");
  await page.getByLabel("FFT setting").selectOption("inpatient");
  await page.getByLabel("Ward code (inpatient services)").fill("W03");
  await page.getByLabel("Specialty code (inpatient services)").fill("30");
  await page.getByRole("button", { name: "Add the service" }).click();
  await page.locator(".error-summary").waitFor();
  assert.match(await page.locator(".error-summary").textContent(), /three digits/);
  assert.equal(await page.getByLabel("Ward code (inpatient services)").inputValue(), "W03", "what was typed is kept");
  await expectAccessibleAndFits(page, "site settings with an error");
  await page.screenshot({ path: `${ARTIFACTS}/site-settings-error-320.png`, fullPage: true });

  await page.getByLabel("Specialty code (inpatient services)").fill("300");
  await page.getByRole("button", { name: "Add the service" }).click();
  await page.waitForURL(/saved=service$/);
  assert.match(await page.locator(".notice").textContent(), /The service is saved/);
  const table = page.getByRole("table", { name: "Services of demo" });
  assert.match(await table.textContent(), /ward-3.*Inpatient.*W03.*300/s);
  await expectAccessibleAndFits(page, "site settings, a service saved");
  await page.screenshot({ path: `${ARTIFACTS}/site-settings-320.png`, fullPage: true });

  // At once: the listed service has its page, anything else does not.
  assert.equal((await page.goto(`${server.url}/f/demo/ward-3`)).status(), 200);
  assert.equal((await page.goto(`${server.url}/f/demo/anything-at-all`)).status(), 404);

  // A second service, then change the first one's codes, then remove the second.
  await page.goto(`${server.url}/dashboard/sites/demo`);
  await page.getByLabel("Service id").fill("ed");
  await page.getByLabel("FFT setting").selectOption("ae");
  await page.getByRole("button", { name: "Add the service" }).click();
  await page.waitForURL(/saved=service$/);
  await page.getByRole("link", { name: "Edit ward-3" }).click();
  await page.getByRole("heading", { name: "Change ward-3" }).waitFor();
  await expectAccessibleAndFits(page, "site settings, editing");
  await page.getByLabel("Ward code (inpatient services)").fill("W03A");
  await page.getByRole("button", { name: "Save the service" }).click();
  await page.waitForURL(/saved=service$/);
  assert.match(await table.textContent(), /W03A/);
  await page.getByRole("button", { name: "Remove ed" }).click();
  await page.waitForURL(/saved=removed$/);
  assert.doesNotMatch(await table.textContent(), /\bed\b/);
  assert.equal((await page.goto(`${server.url}/f/demo/ed`)).status(), 404);

  // Retention: out of range first, then a real value.
  await page.goto(`${server.url}/dashboard/sites/demo`);
  await page.getByLabel("Days responses are kept").fill("0");
  await page.getByRole("button", { name: "Save retention" }).click();
  await page.locator(".error-summary").waitFor();
  assert.match(await page.locator(".error-summary").textContent(), /1 to 3650/);
  await page.getByLabel("Days responses are kept").fill("400");
  await page.getByRole("button", { name: "Save retention" }).click();
  await page.waitForURL(/saved=retention$/);
  assert.equal(await page.getByLabel("Days responses are kept").inputValue(), "400");
  assert.match(await page.locator("#retention-source").textContent(), /saved in the dashboard by/);

  // The audit log names each change and who made it.
  await page.goto(`${server.url}/dashboard/audit`);
  const log = await page.locator("table").textContent();
  for (const what of ["site service added", "site service changed", "site service removed", "site retention set"]) {
    assert.ok(log.includes(what), `the audit log has "${what}"`);
  }
  assert.ok(log.includes("retention 730 → 400 days"));
  await expectAccessibleAndFits(page, "audit log");
  await context.close();
});

test("the exports page shows each setting's deadline, its CSV and the suppression preview", async () => {
  const { context, page } = await phonePage();
  await signIn(page);
  // A few responses to the ward this month, one of them small enough to be suppressed.
  const post = async (answer, mode, n) => {
    for (let i = 0; i < n; i++) {
      const r = await page.request.post(`${server.url}/api/v1/responses`, {
        data: { site: "demo", service: "ward-3", mode, response: { instrument: "fft", version: 1, locale: "en", idempotency_key: `e2e-ret-${mode}-${answer}-${i}-${Date.now()}`, answers: { fft: answer } } },
      });
      assert.equal(r.status(), 201, await r.text());
    }
  };
  await post("very_good", "online", 9);
  await post("poor", "online", 2);
  const month = new Date().toISOString().slice(0, 7);
  await page.goto(`${server.url}/dashboard/exports/fft-return?site=demo&month=${month}`);
  await expectAccessibleAndFits(page, "FFT return preview");
  await page.screenshot({ path: `${ARTIFACTS}/fft-return-preview-320.png`, fullPage: true });
  const row = page.locator("#setting-inpatient");
  assert.match(await row.textContent(), /Inpatient\s*\d+/);
  assert.match(await row.locator("time").getAttribute("datetime"), /^\d{4}-\d{2}-\d{2}$/);
  const href = await row.getByRole("link").getAttribute("href");
  assert.match(href, /setting=inpatient/);
  const csv = await (await page.request.get(`${server.url}${href}`)).text();
  const [header, ...rows] = csv.trim().split("\n");
  assert.ok(header.startsWith("Period,Organisation code,Site code,Setting,Ward code,Specialty code,Service,Very good"), header);
  // The ward's row (the demo data's own inpatient ward has no codes and is a row of its own).
  assert.deepEqual(rows.filter((r) => r.includes(",ward-3,")).map((r) => r.split(",").slice(4, 15).join(",")), ["W03A,300,ward-3,9,0,0,2,0,0,11,Online"]);
  const ward = page.locator("#preview-table-inpatient tr", { hasText: "W03A" });
  assert.equal(await ward.count(), 1);
  assert.equal(await ward.locator(".suppress-small").count(), 1, "poor = 2 would be suppressed");
  assert.ok((await ward.locator(".suppress-secondary").count()) >= 1, "and protected by another cell");
  // The exports page itself lists last month's settings, each with its deadline and CSV (the
  // inpatient one at least: a service is configured for it).
  await page.goto(`${server.url}/dashboard/exports?site=demo`);
  await expectAccessibleAndFits(page, "exports");
  const last = page.locator("#setting-inpatient");
  assert.match(await last.locator("time").getAttribute("datetime"), /^\d{4}-\d{2}-\d{2}$/);
  assert.match(await last.getByRole("link").getAttribute("href"), /&setting=inpatient$/);
  await context.close();
});
