// Signing in with the trust's own account in a real browser, with no JavaScript: Chromium follows
// the redirect to a real OpenID provider (`oidc-provider` from npm, tests/oidc/provider.mjs) on
// another site (localhost, while Chorus is on 127.0.0.1), fills in its form, and comes back
// signed in. This is what the HTTP-level tests in crates/server/tests/oidc.rs cannot show: that a
// browser applying SameSite rules sends the cookies the flow needs after a cross-site return.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { expectFits, expectNoAxeViolations, freePort, launchBrowser, startServer } from "./support.mjs";

const root = resolve(import.meta.dirname, "../..");
const SECRET = "a-client-secret-for-the-browser-test-0123456789";
let provider;
let chorus;
let dir;
let url;
let browser;

before(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  provider = spawn(process.execPath, [join(root, "tests/oidc/provider.mjs")], {
    env: {
      ...process.env,
      OIDC_HOST: "localhost",
      OIDC_CLIENT_ID: "chorus-browser",
      OIDC_CLIENT_SECRET: SECRET,
      OIDC_REDIRECT_URI: `${url}/dashboard/oidc/callback`,
      OIDC_USERS: JSON.stringify({ ann: { email: "ann@trust.nhs.uk", groups: ["feedback-team"] } }),
    },
    stdio: ["pipe", "pipe", "ignore"],
  });
  const issuer = await new Promise((ok, fail) => {
    const lines = createInterface({ input: provider.stdout });
    lines.once("line", (l) => (l.startsWith("issuer ") ? ok(l.slice(7).trim()) : fail(new Error(l))));
    provider.once("exit", (c) => fail(new Error(`the provider exited with ${c}`)));
  });
  dir = mkdtempSync(join(tmpdir(), "chorus-e2e-oidc-"));
  const config = join(dir, "chorus.toml");
  writeFileSync(
    config,
    `[[sites]]
id = "demo"
origins = ["http://127.0.0.1:*"]

[oidc]
issuer = "${issuer}"
client_id = "chorus-browser"
client_secret_env = "CHORUS_E2E_OIDC_SECRET"
redirect_url = "${url}/dashboard/oidc/callback"
allowed_domains = ["trust.nhs.uk"]
button_label = "Sign in with your trust account"
[[oidc.roles]]
group = "feedback-team"
site = "demo"
role = "analyst"
`,
  );
  chorus = await startServer({ config, port, env: { CHORUS_E2E_OIDC_SECRET: SECRET } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await chorus?.stop();
  if (provider && provider.exitCode === null) {
    provider.kill("SIGTERM");
    await new Promise((r) => (provider.exitCode !== null ? r() : provider.once("exit", r)));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("staff sign in through their organisation's provider on another site, without JavaScript", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${url}/dashboard/login`);
  // Both ways in: the provider's button, and the password form (not switched off here).
  assert.equal(await page.getByLabel("Password").count(), 1);
  await page.getByRole("link", { name: "Sign in with your trust account" }).click();
  await page.waitForURL(/^http:\/\/localhost:\d+\/interaction\//);
  await page.locator("input[name=login]").fill("ann");
  await page.locator("input[name=password]").fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  // Back on Chorus, the page moves on to the dashboard by itself (no script needed).
  await page.waitForURL(`${url}/dashboard`);
  await page.getByText("Signed in as ann@trust.nhs.uk").waitFor();
  // An analyst, from the group: the comments are there, the audit log is not.
  const nav = page.getByRole("navigation", { name: "Dashboard" });
  assert.equal(await nav.getByRole("link", { name: "Comments" }).count(), 1);
  assert.equal(await nav.getByRole("link", { name: "Audit log" }).count(), 0);
  const cookies = await context.cookies(url);
  const session = cookies.find((c) => c.name === "chorus_session");
  assert.ok(session && session.httpOnly && session.sameSite === "Strict", JSON.stringify(cookies));
  assert.equal(cookies.find((c) => c.name === "chorus_oidc"), undefined, "the flow's cookie is gone");
  await context.close();
});

test("the sign-in page with the provider's button has no WCAG A/AA violations at 320px", async () => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${url}/dashboard/login`);
  await expectNoAxeViolations(page, "the sign-in page");
  await expectFits(page, "the sign-in page");
  await context.close();
});
