// The FFT's first screen before the module arrives (issue #15). A plain <chorus-fft> is drawn by
// chorus.js the moment it connects, from `crates/widgets/prerender/fft.json`; the app then takes
// it over. Each test holds the wasm module back until it has used the first screen, so what a
// patient does on a slow connection is what is tested:
// - the first screen is the app's own markup, node for node, in English and Welsh (this test
//   writes the file from the app with CHORUS_UPDATE_PRERENDER=1, and fails when they differ);
// - an answer chosen, text typed, the caret and focus, and a press of Send made before the app
//   started are all kept, and what is sent is what was chosen;
// - nothing moves (layout shift 0) and one screen is shown at a time (the app's is hidden until
//   the first screen goes, in one step);
// - it works under a nonce + 'strict-dynamic' CSP with Trusted Types enforced;
// - it is shown only where it is right: any other FFT, an inline instrument, a fetched
//   language or an attribute that changes the first screen waits for the app as before.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";
import { browser, fixture, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

const FILE = join(import.meta.dirname, "../../crates/widgets/prerender/fft.json");
const update = process.env.CHORUS_UPDATE_PRERENDER === "1";

/** A page whose wasm module is held back until `release()` is called. */
async function heldPage(context) {
  const page = await context.newPage();
  let release;
  const held = new Promise((r) => (release = r));
  await page.route(/\/embed\/chorus-[0-9a-f]+\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  await page.addInitScript(() => {
    window.__shift = 0;
    new PerformanceObserver((l) => l.getEntries().forEach((e) => (window.__shift += e.hadRecentInput ? 0 : e.value))).observe({ type: "layout-shift", buffered: true });
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, release, problems };
}

/** The tree of each visible `.chorus-app` box's children, as fft.json holds it. */
function screens(page, selector = "chorus-fft") {
  return page.locator(selector).evaluate((el) => {
    const tree = (n) => (n.nodeType === 3 ? n.data : [n.localName, [...n.attributes].map((a) => [a.name, a.value]), ...[...n.childNodes].filter((c) => c.nodeType === 1 || c.nodeType === 3).map(tree)]);
    return [...el.shadowRoot.querySelectorAll(".chorus-app")].map((box) => ({
      prerender: box.hasAttribute("data-chorus-prerender"),
      hidden: box.hidden,
      nodes: [...box.childNodes].filter((c) => c.nodeType === 1 || c.nodeType === 3).map(tree),
    }));
  });
}

const takenOver = (page, selector = "chorus-fft") =>
  page.locator(selector).evaluate(
    (el) =>
      new Promise((resolve, reject) => {
        const t0 = Date.now();
        const check = () => {
          const r = el.shadowRoot;
          if (!r.querySelector("[data-chorus-prerender]") && r.querySelector(".chorus-app:not([hidden]) form")) return resolve();
          if (Date.now() - t0 > 15000) return reject(new Error("no take-over"));
          requestAnimationFrame(check);
        };
        check();
      }),
  );

test("the first screen is the app's own, node for node, in English and Welsh", async () => {
  const file = JSON.parse(readFileSync(FILE, "utf8"));
  for (const [lang, path] of [["en", "/"], ["cy", "/cy.html"]]) {
    const context = await browser.newContext();
    const { page, release, problems } = await heldPage(context);
    await page.goto(`${server.url}${path}`);
    const before = await screens(page);
    release();
    await takenOver(page);
    const after = await screens(page);
    assert.equal(after.length, 1, `${lang}: one screen once the app has started`);
    assert.equal(after[0].hidden, false);
    if (update) {
      file[lang] = after[0].nodes;
    } else {
      assert.equal(before.length, 2, `${lang}: the first screen, and the app's box waiting hidden`);
      assert.deepEqual([before[0].prerender, before[1].hidden, before[1].nodes], [true, true, []]);
      assert.deepEqual(before[0].nodes, after[0].nodes, `${lang}: the first screen differs from the app's; run this test with CHORUS_UPDATE_PRERENDER=1, then cargo xtask dist`);
      assert.deepEqual(before[0].nodes, file[lang]);
    }
    assert.equal(await page.evaluate(() => window.__shift), 0, `${lang}: layout shift`);
    assert.deepEqual(problems, []);
    await context.close();
  }
  if (update) writeFileSync(FILE, `${JSON.stringify(file)}\n`);
});

test("an answer, typed text, the caret, focus and a press of Send made before the app started are all kept", async () => {
  const context = await browser.newContext();
  const { page, release, problems } = await heldPage(context);
  const posted = [];
  page.on("request", (r) => r.url().endsWith("/api/v1/responses") && r.method() === "POST" && posted.push(r.postDataJSON()));
  await page.goto(`${server.url}/`);
  const el = page.locator("chorus-fft");
  // The app has not started: the module is held back.
  assert.equal(await el.locator("[data-chorus-prerender]").count(), 1);
  // Where the question sits on the page (not the viewport: typing may scroll).
  const place = () => el.locator("fieldset").evaluate((f) => {
    const r = f.getBoundingClientRect();
    return [r.left + scrollX, r.top + scrollY, r.width, r.height];
  });
  const box = await place();
  await el.getByLabel("Good", { exact: true }).check();
  const why = el.getByLabel("Please tell us why you gave that answer");
  await why.click();
  await page.keyboard.type("Kind staff on the ward");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  release();
  await takenOver(page);
  // Kept: the answer, the text, focus in the same box with the caret where it was.
  assert.equal(await el.getByLabel("Good", { exact: true }).isChecked(), true);
  assert.equal(await why.inputValue(), "Kind staff on the ward");
  const focus = await el.evaluate((e) => {
    const a = e.shadowRoot.activeElement;
    return [a?.id, a?.selectionStart];
  });
  assert.deepEqual(focus, ["q-why", "Kind staff on the ward".length - 2]);
  assert.deepEqual(await place(), box, "nothing moved");
  // The app's own character count has taken the text in.
  assert.match(await el.locator("[part=character-count]").first().textContent(), new RegExp(`${1200 - "Kind staff on the ward".length}`));
  // Typing goes on in the app.
  await page.keyboard.type("!");
  assert.equal(await why.inputValue(), "Kind staff on the wa!rd");
  await el.getByRole("button", { name: "Send feedback" }).click();
  await el.getByText(/CH-/).first().waitFor();
  assert.equal(posted.length, 1);
  assert.equal(posted[0].response.answers.fft, "good");
  assert.equal(posted[0].response.answers.why, "Kind staff on the wa!rd");
  assert.equal(await page.evaluate(() => window.__shift), 0);
  assert.deepEqual(problems, []);

  // Send pressed on the first screen: sent once the app starts, as the patient asked.
  const second = await heldPage(context);
  const sent = [];
  second.page.on("request", (r) => r.url().endsWith("/api/v1/responses") && r.method() === "POST" && sent.push(r.postDataJSON()));
  await second.page.goto(`${server.url}/`);
  const el2 = second.page.locator("chorus-fft");
  await el2.getByLabel("Very good", { exact: true }).check();
  await el2.getByRole("button", { name: "Send feedback" }).click();
  assert.equal(second.page.url(), `${server.url}/`, "the first screen's Send does not leave the page");
  second.release();
  await el2.getByText(/CH-/).first().waitFor({ timeout: 15_000 });
  assert.equal(sent.length, 1);
  assert.equal(sent[0].response.answers.fft, "very_good");
  assert.deepEqual(second.problems, []);
  await context.close();
});

test("under a nonce + 'strict-dynamic' CSP with Trusted Types enforced, the first screen is drawn and taken over", async () => {
  const context = await browser.newContext();
  const { page, release, problems } = await heldPage(context);
  await page.route(`${server.url}/hold-out/*`, (route) =>
    route.fulfill({ contentType: "text/html; charset=utf-8", body: fixture(basename(new URL(route.request().url()).pathname)) }),
  );
  const res = await page.goto(`${server.url}/hold-out/strict-dynamic.html`);
  assert.match(await res.text(), /require-trusted-types-for 'script'/);
  const el = page.locator("chorus-fft");
  await el.locator("[data-chorus-prerender] input[type=radio]").first().waitFor();
  await el.getByLabel("Poor", { exact: true }).check();
  release();
  await takenOver(page);
  assert.equal(await el.getByLabel("Poor", { exact: true }).isChecked(), true);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.deepEqual(problems, []);
  await context.close();
});

test("only a plain <chorus-fft> in English or Welsh gets the first screen; anything else waits for the app", async () => {
  const context = await browser.newContext();
  const { page, release } = await heldPage(context);
  await page.goto(`${server.url}/`);
  const inline = await (await fetch(`${server.url}/api/v1/instruments/fft`)).text();
  await page.evaluate((inline) => {
    const main = document.querySelector("main");
    const add = (attrs, json) => {
      const el = document.createElement("chorus-fft");
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      if (json) {
        const s = document.createElement("script");
        s.type = "application/json";
        s.textContent = json;
        el.append(s);
      }
      main.append(el);
    };
    add({ id: "variant", site: "demo", instrument: "fft-ae" });
    add({ id: "polish", site: "demo", locale: "pl" });
    add({ id: "about", site: "demo", "about-you": "" });
    add({ id: "kiosk", site: "demo", kiosk: "" });
    add({ id: "inline", site: "demo" }, inline);
    add({ id: "plain-too", site: "demo", service: "outpatients", class: "x", "data-x": "1" });
  }, inline);
  for (const id of ["variant", "polish", "about", "kiosk", "inline"]) {
    assert.equal(await page.locator(`#${id}`).evaluate((e) => e.shadowRoot.querySelectorAll("input").length), 0, `${id}: nothing drawn before the app`);
  }
  assert.equal(await page.locator("#plain-too [data-chorus-prerender]").count(), 1);
  release();
  for (const id of ["variant", "polish", "about", "kiosk", "inline", "plain-too"]) await page.locator(`#${id} input`).first().waitFor({ timeout: 15_000 });
  await context.close();
});
