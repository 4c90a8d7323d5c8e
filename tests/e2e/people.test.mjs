// People and sessions in a real browser, with no JavaScript: an admin adds a person and gets an
// invitation link, the person chooses a password and signs in, the admin changes their role,
// ends their sessions and disables the account; anyone can sign out everywhere. Every page has
// no WCAG 2.2 A/AA violations (axe-core) and fits a 320px screen.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ARTIFACTS, expectAccessibleAndFits, phonePage, server, signInWithPassword, useSmallSeededDemo } from "./support.mjs";

const admin = useSmallSeededDemo();

// axe runs as a script in the page, so the admin's browser allows script (the dashboard's CSP
// still allows none of the pages' own); the invited person's browser has none at all.
async function signIn(page, email, password) {
  await signInWithPassword(page, { email, password });
}

test("an admin adds, invites, changes, ends the sessions of and disables a person", async () => {
  const { context, page } = await phonePage();
  await signIn(page, admin.email, admin.password);
  await page.waitForURL(/\/dashboard$/);
  await page.getByRole("link", { name: "People" }).click();
  await page.waitForURL(/\/dashboard\/people$/);
  await expectAccessibleAndFits(page, "people");

  // A mistake first: the error is shown beside the field and in the summary.
  await page.getByLabel("Email address").fill("not-an-address");
  await page.getByRole("button", { name: "Add person" }).click();
  await page.locator(".error-summary").waitFor();
  await expectAccessibleAndFits(page, "people with an error");

  await page.getByLabel("Email address").fill("ward.manager@trust.nhs.uk");
  await page.getByLabel("Site").selectOption("demo");
  await page.getByLabel("Role").selectOption("viewer");
  await page.getByRole("button", { name: "Add person" }).click();
  await page.locator("#invitation").waitFor();
  await expectAccessibleAndFits(page, "person, with an invitation");
  assert.match(await page.getByRole("row", { name: /Signs in with/ }).textContent(), /invited \(no password yet\)/);
  await page.screenshot({ path: `${ARTIFACTS}/people-invitation-320.png`, fullPage: true });
  const link = (await page.locator("#invitation code").textContent()).trim();
  assert.match(link, /\/dashboard\/invite\/[0-9a-f]{64}$/);

  // The person opens the link, chooses a password and signs in.
  const them = await phonePage({ script: false });
  await them.page.goto(link);
  const look = await context.newPage();
  await look.goto(link);
  await expectAccessibleAndFits(look, "invitation");
  await look.close();
  await them.page.getByLabel("New password").fill("blue kettle orchard");
  await them.page.getByLabel("The same password again").fill("blue kettle orchard");
  await them.page.getByRole("button", { name: "Set password" }).click();
  await them.page.getByRole("heading", { name: "Your password is set" }).waitFor();
  await signIn(them.page, "ward.manager@trust.nhs.uk", "blue kettle orchard");
  await them.page.waitForURL(/\/dashboard$/);
  assert.equal(await them.page.getByRole("link", { name: "People" }).count(), 0, "a viewer has no People page");

  // The admin sees the sign-in, and makes them an analyst.
  await page.goto(`${server.url}/dashboard/people`);
  const row = page.getByRole("row", { name: /ward\.manager@trust\.nhs\.uk/ });
  assert.match(await row.textContent(), /viewer on demo/);
  assert.doesNotMatch(await row.textContent(), /never/);
  await row.getByRole("link").click();
  await page.getByLabel("Role", { exact: true }).selectOption("analyst");
  await page.getByRole("button", { name: "Give role" }).click();
  await page.waitForURL(/\/dashboard\/people\/\d+$/);
  await expectAccessibleAndFits(page, "person");
  assert.match(await page.getByRole("table", { name: "Roles on your sites" }).textContent(), /analyst on|analyst/);
  assert.match(await page.locator("#sessions").textContent(), /^1 signed in now/);

  // End their sessions: their next page is the sign-in page.
  await page.getByRole("button", { name: "End their sessions" }).click();
  assert.match(await page.locator("#sessions").textContent(), /^0 signed in now/);
  await them.page.goto(`${server.url}/dashboard`);
  assert.match(them.page.url(), /\/dashboard\/login$/);

  // Disable the account: the right password no longer works.
  await page.getByRole("button", { name: "Disable the account" }).click();
  assert.match(await page.locator("#status").textContent(), /^disabled since/);
  await signIn(them.page, "ward.manager@trust.nhs.uk", "blue kettle orchard");
  await them.page.getByText("This account has been disabled").first().waitFor();

  // The audit log says who did each of these.
  await page.goto(`${server.url}/dashboard/audit`);
  const log = await page.locator("table").textContent();
  for (const what of ["person added", "invitation made", "invitation accepted", "role given", "sessions ended", "account disabled"]) {
    assert.ok(log.includes(what), `the audit log has "${what}"`);
  }
  await them.context.close();
  await context.close();
});

test("anyone can sign out everywhere from their account page", async () => {
  const one = await phonePage();
  const two = await phonePage();
  await signIn(one.page, admin.email, admin.password);
  await signIn(two.page, admin.email, admin.password);
  await two.page.waitForURL(/\/dashboard$/);
  await one.page.getByRole("link", { name: "Your account" }).click();
  await expectAccessibleAndFits(one.page, "account");
  assert.match(await one.page.locator("#sessions").textContent(), /signed in in [2-9] places/);
  await one.page.getByRole("button", { name: "Sign out everywhere" }).click();
  await one.page.waitForURL(/\/dashboard\/login$/);
  await two.page.goto(`${server.url}/dashboard`);
  assert.match(two.page.url(), /\/dashboard\/login$/);
  await one.context.close();
  await two.context.close();
});

test("an admin withdraws a response by its receipt reference, and it leaves the exports", async () => {
  const { context, page } = await phonePage();
  // A patient's response, sent from the demo site as the widget sends it.
  await page.goto(`${server.url}/`);
  const receipt = await page.evaluate(async () => {
    const r = await fetch("/api/v1/responses", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        site: "demo",
        service: "outpatients",
        response: { instrument: "fft", version: 1, locale: "en", idempotency_key: "e2e-withdraw-0001", answers: { fft: "good", why: "The nurse on ward 3 was lovely" } },
      }),
    });
    return r.json();
  });
  assert.match(receipt.reference, /^CH-/);
  await signIn(page, admin.email, admin.password);
  await page.waitForURL(/\/dashboard$/);
  const exported = async () => (await (await page.request.get(`${server.url}/dashboard/exports/responses.csv?site=demo`)).text());
  assert.ok((await exported()).includes("ward 3 was lovely"));
  await page.getByRole("link", { name: "Withdraw a response" }).click();
  await expectAccessibleAndFits(page, "withdraw");
  await page.getByLabel("Receipt reference").fill(receipt.reference.toLowerCase());
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByText("The nurse on ward 3 was lovely").waitFor();
  await expectAccessibleAndFits(page, "withdraw, found");
  await page.getByLabel("Why it is being withdrawn").fill("patient asked by phone");
  await page.getByRole("button", { name: "Delete this response" }).click();
  await page.locator("#withdrawn").waitFor();
  await expectAccessibleAndFits(page, "withdraw, done");
  assert.ok(!(await exported()).includes("ward 3 was lovely"), "gone from the export");
  await page.goto(`${server.url}/dashboard/audit`);
  const log = await page.locator("table").textContent();
  assert.ok(log.includes(`${receipt.reference} (fft`) && log.includes("patient asked by phone"), "the audit log says which and why");
  await context.close();
});
