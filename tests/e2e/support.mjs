// Shared fixtures for the end-to-end tests: a Chorus server on a free port with a temporary
// SQLite database, and Debian's Chromium driven by playwright-core (no browser download).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");

async function freePort() {
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

/** Start `chorus serve`; resolves once /healthz answers. */
export async function startServer() {
  const bin = process.env.CHORUS_BIN ?? join(root, "target/debug/chorus");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "chorus-e2e-"));
  const addr = `127.0.0.1:${port}`;
  const child = spawn(bin, ["serve", "--addr", addr, "--pkg-dir", join(root, "pkg"), "--www-dir", join(root, "www")], {
    env: { ...process.env, DATABASE_URL: `sqlite://${join(dir, "chorus.db")}`, RUST_LOG: "warn" },
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
