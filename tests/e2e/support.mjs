// Shared fixtures for the end-to-end tests: a Chorus server on a free port with a temporary
// SQLite database, and Debian's Chromium driven by playwright-core (no browser download).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");

/** A free TCP port on loopback. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * Start `chorus serve`; resolves once /healthz answers. `config`: a configuration file
 * (`--config`) instead of the built-in demo one; `port`: one the test chose (a provider's
 * redirect names it); `env`: more environment for the server.
 */
export async function startServer({ config, port, env = {} } = {}) {
  const bin = process.env.CHORUS_BIN ?? join(root, "target/debug/chorus");
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), "chorus-e2e-"));
  const addr = `127.0.0.1:${port}`;
  const args = ["serve", "--addr", addr, "--pkg-dir", join(root, "pkg"), "--www-dir", join(root, "www")];
  if (config) args.push("--config", config);
  const child = spawn(bin, args, {
    env: { ...process.env, DATABASE_URL: `sqlite://${join(dir, "chorus.db")}`, RUST_LOG: "warn", ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://${addr}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`chorus exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error("chorus did not start within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    database: `sqlite://${join(dir, "chorus.db")}`,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags this closed network needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/**
 * Fill a running server's database with demo data (`chorus seed`: generated responses sent
 * through the same validate/score/redact/store path) and create a dashboard admin.
 * Resolves to { email, password }.
 */
export async function seedDemo(server, { months = 4, perMonth = 120, email = "e2e@chorus.example", password = "e2e-password-123" } = {}) {
  const bin = process.env.CHORUS_BIN ?? join(root, "target/debug/chorus");
  const args = ["seed", "--months", String(months), "--per-month", String(perMonth), "--admin-email", email, "--admin-password", password];
  const child = spawn(bin, args, {
    env: { ...process.env, DATABASE_URL: server.database, RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const code = await new Promise((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`chorus seed exited with ${code}: ${out}`);
  return { email, password, output: out };
}

/** The server and browser of this test file, once `useServerAndBrowser()` has started them. */
export let server;
export let browser;

/**
 * Start one server and one browser before this file's tests, then run `setup` (seeding,
 * say), and stop them after; the `server` and `browser` exported above are then the ones in
 * use (each test file runs in a process of its own). The setup is run here, not in a
 * `before` of the test file's own: node:test does not wait for one root `before` hook to
 * finish before it starts the next.
 */
export function useServerAndBrowser(setup = async () => {}) {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    await setup();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
}

/** Where a test keeps its screenshots (`CHORUS_ARTIFACTS`, else /tmp). */
export const ARTIFACTS = process.env.CHORUS_ARTIFACTS ?? "/tmp";

/**
 * The server and browser of `useServerAndBrowser()`, the demo site seeded small (a month of
 * ten responses), for the dashboard's form tests. Returns the admin `seedDemo` made: its
 * email and password are there once the setup has run.
 */
export function useSmallSeededDemo() {
  const admin = {};
  useServerAndBrowser(async () => {
    Object.assign(admin, await seedDemo(server, { months: 1, perMonth: 10 }));
  });
  return admin;
}

/** A page in a new browser context 320px wide (a small phone), with script on or off. */
export async function phonePage({ script = true } = {}) {
  const context = await browser.newContext({ javaScriptEnabled: script, viewport: { width: 320, height: 640 } });
  return { context, page: await context.newPage() };
}

/** The page has no WCAG 2.2 A/AA violations (axe-core) and nothing wider than the screen. */
export async function expectAccessibleAndFits(page, what) {
  await expectNoAxeViolations(page, what);
  await expectFits(page, what);
}

/** The axe-core rule sets every accessibility check here runs: WCAG 2.0, 2.1 and 2.2, A and AA. */
export const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/**
 * axe-core on `page` (or only inside the `include` selectors): no violation, each listed with
 * the elements it found, and at least `minPasses` rules passed (so it checked something).
 */
export async function expectNoAxeViolations(page, what, { include = [], minPasses = 1 } = {}) {
  let builder = new AxeBuilder({ page }).withTags(WCAG);
  for (const selector of [include].flat()) builder = builder.include(selector);
  const result = await builder.analyze();
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.map((n) => [n.target].flat().join(" ")).join(", ")}`);
  assert.deepEqual(found, [], `${what}: axe found violations`);
  assert.ok(result.passes.length >= minPasses, `${what}: axe checked nothing`);
}

/** The page needs no sideways scrolling at its viewport's width (320px reflow). */
export async function expectFits(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${what} is ${overflow}px wider than the screen`);
}

/** Sign in to the dashboard through the password form (from wherever the page is). */
export async function signInWithPassword(page, { email, password }) {
  await page.goto(`${server.url}/dashboard/login`);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const FIXTURES = join(import.meta.dirname, "fixtures");
/** The body the hold-out fixtures share (`fixtures/body.html`, from its `<body>` on). */
const BODY = readFileSync(join(FIXTURES, "body.html"), "utf8").replace(/^[^]*?(?=<body>)/, "");

/**
 * A fixture page as served: a page with a body of its own as it is; else its head, then the
 * shared body with the fixture's lines after its head (if any) in place of the intro.
 */
export function fixture(name) {
  const own = readFileSync(join(FIXTURES, name), "utf8");
  if (own.includes("<body")) return own;
  const [head, intro] = own.split("</head>\n");
  return `${head}</head>\n${BODY.replace("    <!-- intro -->\n", intro)}`;
}
