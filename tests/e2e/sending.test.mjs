// Honest sending, on host pages the widget has never seen: a second loopback origin that the
// server does not allow, an unknown site, a CMS that stripped the attributes, a server that is
// down, and the browser offline. Only what can still be delivered is kept on the device and
// called "saved"; everything else tells the patient plainly, offers the trust's other way,
// and names the real problem to the web team (console and `chorus:error`). Also the smaller
// promises about sending and typing: the character count is not read out on every keystroke,
// knowledge-check feedback lands in a live region that was already there, focus stays put
// while "Sending…", the decision aid's summary survives sending, and a re-mounted element
// keeps what was typed.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, test } from "node:test";
import { browser, expectNoAxeViolations, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();
const hosts = [];
after(async () => {
  for (const h of hosts) await new Promise((r) => h.close(r));
});

/**
 * A trust's page served by a plain web server (not Chorus) on `address`, loading the bundle
 * from the Chorus server. `body` is the page's main content. Anything else it is asked for
 * (such as a POST a misconfigured widget sends to its own origin) gets the CMS's HTML 404.
 */
async function hostPage(address, body, headers = {}) {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trust page</title>
<script src="${server.url}/embed/chorus.js" crossorigin="anonymous"></script>
</head><body><main><h1>Tell us about your visit</h1>${body}</main></body></html>`;
  const h = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers });
      res.end(html);
    } else {
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<h1>Page not found</h1>");
    }
  });
  await new Promise((ok) => h.listen(0, address, ok));
  hosts.push(h);
  return `http://${address}:${h.address().port}/`;
}

/** A browser page that records every chorus:* event and every console error. */
async function open(url) {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    window.__events = [];
    for (const name of ["chorus:submitted", "chorus:queued", "chorus:error"]) {
      document.addEventListener(name, (e) => window.__events.push({ name, tag: e.target.localName, ...e.detail }));
    }
  });
  const page = await context.newPage();
  const console = [];
  page.on("console", (m) => m.type() === "error" && console.push(m.text()));
  await page.goto(url);
  return { context, page, console };
}

async function axe(page, tag, state) {
  await expectNoAxeViolations(page, `${tag} ${state}`, { include: tag });
}

const events = (page) => page.evaluate(() => window.__events);
const queued = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("chorus:queue:")).length);
const stored = async () => Number((await (await fetch(`${server.url}/metrics`)).text()).match(/chorus_responses_stored_total (\d+)/)[1]);

async function answerAndSend(page) {
  const fft = page.locator("chorus-fft");
  await fft.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  await fft.getByLabel("Good", { exact: true }).check();
  await fft.locator("#q-why").fill("The nurse explained everything.");
  await fft.locator("button[type=submit]").click();
  return fft;
}

const FALLBACK = 'fallback-phone="0300 123 4567" fallback-href="https://www.example-trust.nhs.uk/feedback/paper"';

test("a page on an origin the server does not allow: told plainly it was not sent, origin_not_allowed, nothing kept", async () => {
  // 127.0.0.2 is loopback too, but not one of the demo site's origins (127.0.0.1, localhost, ::1).
  const url = await hostPage("127.0.0.2", `<chorus-fft endpoint="${server.url}" site="demo" service="outpatients" ${FALLBACK}></chorus-fft>`);
  const before = await stored();
  const { context, page, console } = await open(url);
  const fft = await answerAndSend(page);
  const summary = fft.locator(".chorus-error-summary");
  await summary.waitFor({ timeout: 15_000 });
  const text = await summary.textContent();
  assert.match(text, /could not be sent and have not been saved/);
  assert.doesNotMatch(text, /saved on this device|automatically|try again/i);
  // The trust's other ways, as configured on the element.
  assert.equal(await summary.getByRole("link", { name: "0300 123 4567" }).getAttribute("href"), "tel:03001234567");
  assert.equal(await summary.getByRole("link", { name: "Give your feedback another way" }).getAttribute("href"), "https://www.example-trust.nhs.uk/feedback/paper");
  assert.equal(await page.evaluate(() => document.querySelector("chorus-fft").shadowRoot.activeElement?.className), "chorus-error-summary");
  const seen = await events(page);
  assert.deepEqual(seen.map((e) => [e.name, e.code]), [["chorus:error", "origin_not_allowed"]]);
  assert.match(seen[0].message, /127\.0\.0\.2/);
  assert.equal(await queued(page), 0, "nothing queued in localStorage");
  assert.ok(console.some((c) => /Chorus: origin_not_allowed: .*127\.0\.0\.2/.test(c)), `console for the web team: ${console.join(" | ")}`);
  assert.equal(await stored(), before);
  await axe(page, "chorus-fft", "refused");
  await context.close();
});

test("a page whose Content-Security-Policy does not allow the endpoint: csp_blocked, told plainly, nothing kept", async () => {
  // The bundle comes from the Chorus server's 127.0.0.1 address, which connect-src allows;
  // the endpoint is the same server under another name, which it does not.
  const endpoint = server.url.replace("127.0.0.1", "localhost");
  const csp = `default-src 'self'; script-src ${server.url} 'wasm-unsafe-eval'; connect-src 'self' ${server.url}; style-src 'self'`;
  const url = await hostPage("127.0.0.1", `<chorus-fft endpoint="${endpoint}" site="demo" service="outpatients" ${FALLBACK}></chorus-fft>`, { "content-security-policy": csp });
  const before = await stored();
  const { context, page, console } = await open(url);
  const fft = await answerAndSend(page);
  const summary = fft.locator(".chorus-error-summary");
  await summary.waitFor({ timeout: 15_000 });
  assert.match(await summary.textContent(), /could not be sent and have not been saved/);
  assert.deepEqual((await events(page)).map((e) => [e.name, e.code]), [["chorus:error", "csp_blocked"]]);
  assert.equal(await queued(page), 0, "nothing queued in localStorage");
  assert.ok(console.some((c) => /Chorus: csp_blocked: .*connect-src/.test(c)), `console for the web team: ${console.join(" | ")}`);
  assert.equal(await stored(), before);
  await context.close();
});

test("the same page on an allowed origin sends (the fixture itself is sound)", async () => {
  const url = await hostPage("127.0.0.1", `<chorus-fft endpoint="${server.url}" site="demo" service="outpatients" ${FALLBACK}></chorus-fft>`);
  const before = await stored();
  const { context, page } = await open(url);
  const fft = await answerAndSend(page);
  await fft.locator("[part=confirmation]").waitFor({ timeout: 15_000 });
  assert.deepEqual((await events(page)).map((e) => e.name), ["chorus:submitted"]);
  assert.equal(await stored(), before + 1);
  await context.close();
});

test("an unknown site: the server's own code (unknown_site), not queued, no fallback configured → the staff", async () => {
  const url = await hostPage("127.0.0.1", `<chorus-fft endpoint="${server.url}" site="no-such-trust"></chorus-fft>`);
  const { context, page, console } = await open(url);
  const fft = await answerAndSend(page);
  const summary = fft.locator(".chorus-error-summary");
  await summary.waitFor({ timeout: 15_000 });
  assert.match(await summary.textContent(), /could not be sent.*member of staff/s);
  assert.deepEqual((await events(page)).map((e) => [e.name, e.code]), [["chorus:error", "unknown_site"]]);
  assert.equal(await queued(page), 0);
  assert.ok(console.some((c) => /unknown_site.*no-such-trust/.test(c)), console.join(" | "));
  await context.close();
});

test("a CMS stripped site and endpoint: the web team is told (not_configured) and no patient fills in a form for nothing", async () => {
  const url = await hostPage("127.0.0.1", `<chorus-fft ${FALLBACK}></chorus-fft><chorus-form instrument="i-statements"></chorus-form>`);
  const { context, page, console } = await open(url);
  for (const tag of ["chorus-fft", "chorus-form"]) {
    const unavailable = page.locator(`${tag} [part=unavailable]`);
    await unavailable.waitFor({ timeout: 15_000 });
    assert.match(await unavailable.textContent(), /not working at the moment/);
    assert.equal(await page.locator(`${tag} input, ${tag} textarea, ${tag} button`).count(), 0, `${tag}: no form to fill in`);
  }
  assert.ok(await page.locator("chorus-fft [part=unavailable]").getByRole("link", { name: "0300 123 4567" }).isVisible());
  const seen = await events(page);
  assert.deepEqual(seen.map((e) => [e.tag, e.code]).sort(), [["chorus-fft", "not_configured"], ["chorus-form", "not_configured"]]);
  assert.ok(console.some((c) => /<chorus-fft> has no site attribute/.test(c)), console.join(" | "));
  assert.equal(await queued(page), 0);
  await axe(page, "chorus-fft", "not configured");
  await context.close();
});

test("a CMS stripped only the endpoint: the post reaches the CMS (404 page), not_configured, not queued", async () => {
  const url = await hostPage("127.0.0.1", `<chorus-fft site="demo"></chorus-fft>`);
  const { context, page, console } = await open(url);
  const fft = await answerAndSend(page);
  await fft.locator(".chorus-error-summary").waitFor({ timeout: 15_000 });
  assert.deepEqual((await events(page)).map((e) => e.code), ["not_configured"]);
  assert.ok(console.some((c) => /answered 404 and is not a Chorus server/.test(c)), console.join(" | "));
  assert.equal(await queued(page), 0);
  await context.close();
});

test("offline on a cross-origin page: still kept on the device, and delivered when back online", async () => {
  const url = await hostPage("127.0.0.1", `<chorus-fft endpoint="${server.url}" site="demo"></chorus-fft>`);
  const before = await stored();
  const { context, page } = await open(url);
  await page.locator("chorus-fft input[type=radio]").first().waitFor({ timeout: 15_000 });
  await context.setOffline(true);
  const started = Date.now();
  const fft = await answerAndSend(page);
  await fft.locator("[part=queued]").waitFor({ timeout: 15_000 });
  assert.ok(Date.now() - started < 3000, "offline is known at once: no backoff before telling the patient");
  assert.match(await fft.locator("[part=queued]").textContent(), /saved on this device/);
  assert.equal(await queued(page), 1);
  await context.setOffline(false);
  await fft.locator("[part=confirmation]").waitFor({ timeout: 15_000 });
  assert.equal(await queued(page), 0);
  assert.equal(await stored(), before + 1);
  assert.deepEqual((await events(page)).map((e) => e.name), ["chorus:queued", "chorus:submitted"]);
  await context.close();
});

test("the Chorus server down (connection refused, browser online): kept on the device, not called refused", async () => {
  // A port with nothing listening on it.
  const gone = createServer();
  await new Promise((ok) => gone.listen(0, "127.0.0.1", ok));
  const port = gone.address().port;
  await new Promise((r) => gone.close(r));
  const url = await hostPage("127.0.0.1", `<chorus-fft endpoint="http://127.0.0.1:${port}" site="demo"></chorus-fft>`);
  const { context, page } = await open(url);
  const fft = await answerAndSend(page);
  await fft.locator("[part=queued]").waitFor({ timeout: 20_000 });
  assert.deepEqual((await events(page)).map((e) => e.name), ["chorus:queued"]);
  assert.equal(await queued(page), 1);
  await context.close();
});

test("a proxy in front of a down Chorus server (502 with no CORS headers): kept on the device, not called refused", async () => {
  // The browser sees the same TypeError as for a refused origin; the proxy answers the probe
  // too, but without Access-Control-Allow-Origin, so the widget must not conclude "refused".
  let hits = 0;
  const proxy = createServer((req, res) => {
    hits++;
    res.writeHead(502, { "content-type": "text/html" });
    res.end("<h1>502 Bad Gateway</h1>");
  });
  await new Promise((ok) => proxy.listen(0, "127.0.0.1", ok));
  hosts.push(proxy);
  const url = await hostPage("127.0.0.1", `<chorus-fft endpoint="http://127.0.0.1:${proxy.address().port}" site="demo"></chorus-fft>`);
  const { context, page } = await open(url);
  const fft = await answerAndSend(page);
  await fft.locator("[part=queued]").waitFor({ timeout: 20_000 });
  assert.deepEqual((await events(page)).map((e) => e.name), ["chorus:queued"]);
  assert.ok(hits >= 2, `the proxy was asked (${hits})`);
  await context.close();
});

test("the character count is not a live region; a separate status speaks once typing pauses; over the limit it is in the error colour", async () => {
  const { context, page } = await open(`${server.url}/`);
  const fft = page.locator("chorus-fft");
  const area = fft.locator("#q-why");
  await area.waitFor({ timeout: 15_000 });
  // Record every change to any live region in the widget.
  await page.evaluate(() => {
    const root = document.querySelector("chorus-fft").shadowRoot;
    window.__live = [];
    new MutationObserver((ms) => {
      for (const m of ms) {
        const region = (m.target.nodeType === 1 ? m.target : m.target.parentElement).closest("[aria-live], [role=status], [role=alert]");
        if (region) window.__live.push({ at: Date.now(), text: region.textContent });
      }
    }).observe(root, { subtree: true, childList: true, characterData: true });
  });
  const count = fft.locator("#q-why ~ [part=character-count]");
  assert.equal(await count.getAttribute("aria-hidden"), "true");
  assert.equal(await count.getAttribute("aria-live"), null);
  const described = (await area.getAttribute("aria-describedby")).split(" ");
  const info = await page.evaluate((ids) => ids.map((id) => document.querySelector("chorus-fft").shadowRoot.getElementById(id)?.textContent), described);
  assert.ok(info.includes("You can enter up to 1200 characters"), info.join(" | "));
  await area.pressSequentially("Kind staff", { delay: 80 });
  const typedAt = Date.now();
  assert.equal(await count.textContent(), "1190 characters remaining", "the visible count follows every keystroke");
  assert.deepEqual(await page.evaluate(() => window.__live), [], "no live region changed while typing");
  const status = fft.locator("#q-why ~ [part=character-count-status]");
  assert.equal(await status.getAttribute("aria-live"), "polite");
  await page.waitForFunction(() => window.__live.length > 0, null, { timeout: 3000 });
  await new Promise((r) => setTimeout(r, 1200));
  const live = await page.evaluate(() => window.__live);
  assert.deepEqual(live.map((l) => l.text), ["1190 characters remaining"], "spoken once, after the pause");
  assert.ok(live[0].at - typedAt >= 500, "not before typing paused");
  // Over the limit: the count says so in the error colour.
  await area.fill("x".repeat(1203));
  assert.equal(await count.textContent(), "3 characters too many");
  const colours = await page.evaluate(() => {
    const root = document.querySelector("chorus-fft").shadowRoot;
    const c = getComputedStyle(root.querySelector("[part=character-count]")).color;
    const probe = document.createElement("p");
    probe.style.color = "var(--chorus-colour-error)";
    root.querySelector("form").append(probe);
    const error = getComputedStyle(probe).color;
    probe.remove();
    return { c, error, hint: getComputedStyle(root.querySelector(".chorus-hint")).color };
  });
  assert.equal(colours.c, colours.error);
  assert.notEqual(colours.c, colours.hint);
  await context.close();
});

test("while sending, focus stays on the (still focusable) button, not the page; a second press sends nothing more", async () => {
  const { context, page } = await open(`${server.url}/`);
  let posts = 0;
  await page.route("**/api/v1/responses", async (route) => {
    posts++;
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  const fft = page.locator("chorus-fft");
  await fft.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  await fft.getByLabel("Good", { exact: true }).check();
  const button = fft.locator("button[type=submit]");
  await button.focus();
  await page.keyboard.press("Enter");
  await fft.getByText("Sending…").waitFor();
  const during = await page.evaluate(() => {
    const host = document.querySelector("chorus-fft");
    const a = host.shadowRoot.activeElement;
    return { page: document.activeElement.localName, inside: a?.textContent.trim(), disabled: a?.getAttribute("aria-disabled") };
  });
  assert.deepEqual(during, { page: "chorus-fft", inside: "Sending…", disabled: "true" });
  await page.keyboard.press("Enter");
  await fft.locator("[part=confirmation]").waitFor({ timeout: 15_000 });
  assert.equal(posts, 1);
  await context.close();
});

test("removing and re-adding an element keeps what was typed; sending clears it", async () => {
  const { context, page } = await open(`${server.url}/`);
  const fft = page.locator("chorus-fft");
  await fft.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  await fft.getByLabel("Poor", { exact: true }).check();
  await fft.locator("#q-why").fill("Long wait in the corridor.");
  await page.evaluate(() => {
    const el = document.querySelector("chorus-fft");
    const parent = el.parentNode;
    el.remove();
    parent.append(el);
  });
  await fft.locator("input[type=radio]").first().waitFor();
  assert.equal(await fft.getByLabel("Poor", { exact: true }).isChecked(), true);
  assert.equal(await fft.locator("#q-why").inputValue(), "Long wait in the corridor.");
  await fft.locator("button[type=submit]").click();
  await fft.locator("[part=confirmation]").waitFor({ timeout: 15_000 });
  assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("chorus:draft:"))), []);
  // A form keeps its page too.
  await page.goto(`${server.url}/feedback.html`);
  const form = page.locator("chorus-form");
  await form.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  await form.locator("button[type=submit]").click();
  const heading = await form.locator("h2").textContent();
  assert.match(heading, /page 2 of/);
  await form.locator("input[type=radio]").first().check();
  await page.evaluate(() => {
    const el = document.querySelector("chorus-form");
    const parent = el.parentNode;
    el.remove();
    parent.append(el);
  });
  await form.locator("input[type=radio]").first().waitFor();
  assert.equal(await form.locator("h2").textContent(), heading);
  assert.equal(await form.locator("input[type=radio]").first().isChecked(), true);
  await context.close();
});

test("a page's error summary says exactly what the question says; Back is named Back", async () => {
  // The aid's values page: every question required.
  const { context, page } = await open(`${server.url}/decision-aid.html`);
  const aid = page.locator("chorus-decision-aid");
  await aid.locator("table").waitFor({ timeout: 15_000 });
  await aid.locator("button[type=submit]").click();
  await aid.locator("button[type=submit]").click();
  await aid.locator(".chorus-error-summary").waitFor();
  const pairs = await page.evaluate(() => {
    const root = document.querySelector("chorus-decision-aid").shadowRoot;
    return [...root.querySelectorAll(".chorus-error-summary a")].map((a) => {
      const field = root.getElementById(a.getAttribute("href").slice(1));
      const group = field.closest(".chorus-form-group");
      const inline = group.querySelector(".chorus-error-message").cloneNode(true);
      inline.querySelector(".chorus-visually-hidden")?.remove();
      return [a.textContent, inline.textContent];
    });
  });
  assert.ok(pairs.length > 0);
  for (const [summary, inline] of pairs) assert.equal(summary, inline);
  // The accessible name, not the visible text (the stylesheet may draw a chevron before it).
  const snapshot = await aid.ariaSnapshot();
  assert.match(snapshot, /^- button "Back"(:|$)/m);
  assert.doesNotMatch(snapshot, /button "‹/);
  await context.close();
});

test("knowledge-check feedback goes into a live region that was there before the answer", async () => {
  const { context, page } = await open(`${server.url}/decision-aid.html`);
  const aid = page.locator("chorus-decision-aid");
  await aid.locator("table").waitFor({ timeout: 15_000 });
  await aid.locator("button[type=submit]").click();
  const groups = aid.locator("fieldset");
  const n = await groups.count();
  for (let i = 0; i < n; i++) await groups.nth(i).getByLabel("5", { exact: true }).check();
  await aid.locator("button[type=submit]").click();
  const region = aid.locator("[part=feedback-region]").first();
  await region.waitFor({ state: "attached" });
  assert.equal(await region.getAttribute("aria-live"), "polite");
  assert.equal((await region.textContent()).trim(), "");
  await region.evaluate((el) => (el.__before = true));
  await aid.locator("fieldset").first().locator("input").first().check();
  assert.match(await region.textContent(), /That's right|Not quite/);
  assert.equal(await region.evaluate((el) => el.__before), true, "the same element: not re-created with its text");
  await context.close();
});

test("after sending, the decision aid's summary is still there to print and save, with the receipt", async () => {
  const { context, page } = await open(`${server.url}/decision-aid.html`);
  const aid = page.locator("chorus-decision-aid");
  await aid.locator("table").waitFor({ timeout: 15_000 });
  for (let pageNo = 0; pageNo < 8 && !(await aid.locator("[part=summary]").count()); pageNo++) {
    const groups = aid.locator("fieldset");
    for (let i = 0; i < (await groups.count()); i++) await groups.nth(i).locator("input").first().check();
    await aid.locator("button[type=submit]").click();
  }
  await aid.locator("[part=summary]").waitFor();
  await aid.getByRole("button", { name: "Send my answers anonymously" }).click();
  await aid.locator("[part=confirmation]").waitFor({ timeout: 15_000 });
  assert.match(await aid.locator("[part=confirmation]").textContent(), /CH-/);
  assert.equal(await aid.locator("[part=confirmation]").evaluate((e) => e === e.getRootNode().activeElement), true);
  assert.ok(await aid.locator("[part=summary]").isVisible());
  assert.ok(await aid.getByRole("button", { name: "Print your summary" }).isVisible());
  const [download] = await Promise.all([page.waitForEvent("download"), aid.getByRole("button", { name: "Save your summary" }).click()]);
  assert.equal(download.suggestedFilename(), "decision-summary.txt");
  assert.equal(await aid.getByRole("button", { name: "Send my answers anonymously" }).count(), 0, "not offered twice");
  await context.close();
});
