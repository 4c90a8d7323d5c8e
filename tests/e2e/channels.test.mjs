// Channels (issue 18) in a real browser: the hosted page a text message or QR code links to
// renders the widget under the strict policy, a patient's answer is stored with the link's
// mode, the Welsh link asks in Welsh, and the printable poster passes axe.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { browser, expectFits, expectNoAxeViolations, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

function exported(instrument) {
  const csv = execFileSync(process.env.CHORUS_BIN ?? join(import.meta.dirname, "../../target/debug/chorus"),
    ["export", "--database", server.database, "--instrument", instrument], { encoding: "utf8" });
  return csv.trim().split("\n").slice(1);
}

test("a text-message link's hosted page collects an answer stored as mode sms, with no CSP violation", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations = [];
  page.on("console", (m) => { if (m.type() === "error") violations.push(m.text()); });
  await page.goto(`${server.url}/f/demo/ward-sms?mode=sms`);
  const good = page.locator("chorus-fft").getByRole("radio", { name: "Good", exact: true });
  await good.waitFor();
  await expectNoAxeViolations(page, "hosted page");
  await good.check();
  await page.locator("chorus-fft button[type=submit]").click();
  await page.locator("chorus-fft").getByText(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/).waitFor();
  const rows = exported("fft").filter((r) => r.includes("ward-sms"));
  assert.equal(rows.length, 1, rows.join("\n"));
  assert.match(rows[0], /,sms$/, "the mode is the export's last column");
  assert.deepEqual(await context.cookies(), [], "no cookies");
  assert.deepEqual(violations, [], "no console errors (a CSP violation would show here)");
  await context.close();
});

test("the Welsh link asks in Welsh, and a QR code's visit is stored as qr", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/f/demo/ward-qr?mode=qr&lang=cy`);
  assert.equal(await page.getAttribute("html", "lang"), "cy");
  const legend = page.locator("chorus-fft legend").first();
  await legend.waitFor();
  assert.match(await legend.textContent(), /Yn gyffredinol/);
  await page.locator("chorus-fft").getByRole("radio", { name: "Da iawn" }).check();
  await page.locator("chorus-fft button[type=submit]").click();
  await page.locator("chorus-fft").getByText(/CH-[0-9A-Z]{4}-[0-9A-Z]{4}/).waitFor();
  const rows = exported("fft").filter((r) => r.includes("ward-qr"));
  assert.equal(rows.length, 1);
  assert.match(rows[0], /,qr$/);
  await context.close();
});

test("the poster is accessible at 320px and its QR code is an image with a name", async () => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/f/demo/ward-qr/poster`);
  const qr = page.getByRole("img", { name: /QR code for http/ });
  assert.equal(await qr.count(), 1);
  await expectNoAxeViolations(page, "poster");
  await expectFits(page, "poster");
  await page.emulateMedia({ media: "print" });
  await page.pdf({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/poster.pdf`, format: "A4" });
  await context.close();
});

