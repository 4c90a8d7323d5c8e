// A patient withdraws their own feedback (issue 23) in a real browser: the widget's receipt
// shows the reference and a one-time code with a link, the /withdraw page (no JavaScript
// needed) deletes the response with them, and the page passes axe at 320 px in each state.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
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

function exported(service) {
  const csv = execFileSync(process.env.CHORUS_BIN ?? join(import.meta.dirname, "../../target/debug/chorus"),
    ["export", "--database", server.database, "--instrument", "fft"], { encoding: "utf8" });
  return csv.trim().split("\n").slice(1).filter((r) => r.includes(service));
}

async function expectNoViolations(page, what) {
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.map((n) => n.target).join(" ")}`);
  assert.deepEqual(found, [], `${what} has accessibility violations`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${what} is ${overflow}px wider than the screen`);
}

/** Send an FFT answer from the hosted page; resolves to what the receipt shows. */
async function sendFromWidget(page, service) {
  await page.goto(`${server.url}/f/demo/${service}`);
  const good = page.locator("chorus-fft").getByRole("radio", { name: "Good", exact: true });
  await good.waitFor();
  await good.check();
  await page.locator("chorus-fft button[type=submit]").click();
  const withdraw = page.locator("chorus-fft [part=withdraw]");
  await withdraw.waitFor();
  const panel = await page.locator("chorus-fft [part=confirmation]").textContent();
  const reference = panel.match(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/)[0];
  const code = await withdraw.locator("strong").textContent();
  const link = withdraw.getByRole("link", { name: "withdraw your feedback" });
  return { reference, code, link, text: await withdraw.textContent() };
}

test("the receipt's code withdraws the response on /withdraw, and it is gone from the export", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const sent = await sendFromWidget(page, "ward-withdraw");
  assert.match(sent.code, /^([2-9A-HJKMNP-TV-Z]{4} ){6}[2-9A-HJKMNP-TV-Z]{4}$/, "28 characters in groups of four");
  assert.match(sent.text, /for 30 days/);
  await expectNoViolations(page, "the receipt");
  await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/withdraw-receipt.png` });
  assert.equal(exported("ward-withdraw").length, 1);
  // The link leads to this collector's page with the reference filled in, never the code.
  const href = await sent.link.getAttribute("href");
  assert.equal(href, `/withdraw?reference=${sent.reference}`);
  await sent.link.click();
  await page.waitForURL(/\/withdraw\?reference=/);
  assert.equal(await page.getByLabel("Reference").inputValue(), sent.reference);
  await page.getByLabel("Withdrawal code").fill(sent.code.toLowerCase());
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Are you sure you want to withdraw your feedback?" }).waitFor();
  assert.equal(exported("ward-withdraw").length, 1, "asking is not deleting");
  await page.getByRole("button", { name: "Yes, withdraw my feedback" }).click();
  await page.getByRole("heading", { name: "Your feedback has been withdrawn" }).waitFor();
  assert.equal(exported("ward-withdraw").length, 0);
  assert.deepEqual(await context.cookies(), [], "no cookies");
  await context.close();
});

test("without JavaScript the page withdraws too, and a used code works no more", async () => {
  const sender = await browser.newContext();
  const sent = await sendFromWidget(await sender.newPage(), "ward-nojs");
  await sender.close();
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/withdraw`);
  assert.equal(await page.locator("script").count(), 0, "the page has no script at all");
  await page.getByLabel("Reference").fill(sent.reference);
  await page.getByLabel("Withdrawal code").fill(sent.code);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("button", { name: "Yes, withdraw my feedback" }).click();
  await page.getByRole("heading", { name: "Your feedback has been withdrawn" }).waitFor();
  assert.equal(exported("ward-nojs").length, 0);
  // The same code again, in Welsh: the answer any wrong code gets.
  await page.goto(`${server.url}/withdraw?lang=cy`);
  assert.equal(await page.getAttribute("html", "lang"), "cy");
  await page.getByLabel("Cyfeirnod").fill(sent.reference);
  await page.getByLabel("Cod tynnu'n ôl").fill(sent.code);
  await page.getByRole("button", { name: "Parhau" }).click();
  await page.getByText("Ni allem dynnu adborth yn ôl").waitFor();
  await context.close();
});

test("at 320 px every state of the page passes axe, in English and Welsh", async () => {
  const sender = await browser.newContext();
  const sent = await sendFromWidget(await sender.newPage(), "ward-axe");
  await sender.close();
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/withdraw`);
  await expectNoViolations(page, "the form");
  // Nothing typed: each field named in the summary.
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("link", { name: "Enter the reference from your confirmation" }).waitFor();
  await expectNoViolations(page, "the form with errors");
  // A wrong code.
  await page.getByLabel("Reference").fill(sent.reference);
  await page.getByLabel("Withdrawal code").fill("2222-3333-4444-5555-6666-7777-8888");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByText("We could not withdraw feedback with this reference and code").waitFor();
  await expectNoViolations(page, "the refusal");
  await page.getByLabel("Withdrawal code").fill(sent.code);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("button", { name: "Yes, withdraw my feedback" }).waitFor();
  await expectNoViolations(page, "are you sure");
  await page.getByRole("button", { name: "Yes, withdraw my feedback" }).click();
  await page.getByRole("heading", { name: "Your feedback has been withdrawn" }).waitFor();
  await expectNoViolations(page, "withdrawn");
  await page.goto(`${server.url}/withdraw?lang=cy`);
  await expectNoViolations(page, "the Welsh form");
  await context.close();
});
