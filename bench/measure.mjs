// Browser measurements for `cargo xtask bench`: time to visible, time to interactive, layout
// shift, click → next frame, and page moves in the I Statement form, in Debian's headless
// Chromium with the CPU throttled (4× by default), and again on a slow mobile network (the
// same CPU throttling plus 150 ms round trip, 1.6 Mbps down, 750 kbps up). Prints progress on
// stderr and writes one JSON file; the xtask turns it into BENCHMARKS.md. Figures only:
// nothing here passes or fails on a time.
//
//   node bench/measure.mjs --base http://127.0.0.1:PORT/embed/ --out result.json [--runs 11]
//
// Definitions (the same code measures every page):
// - time to form: from navigation start (performance.timeOrigin) to the frame that first shows
//   all six FFT answers: each radio's label laid out with a non-zero box and visible. Found by
//   checking on every animation frame from the moment the document exists; the time taken is
//   that of a message posted from the frame's requestAnimationFrame callback, which runs once
//   the frame has been rendered.
// - time to interactive: from navigation start to the end of the frame in which a click on an
//   answer has been handled by the page's own code, not merely drawn by the browser: from the
//   first frame that shows the answers, every frame clicks an answer (alternating between two,
//   so each click is a change) until the page's own state says it took it. The floor: its
//   change handler's `data-answer` on the form. SurveyJS: its `sd-item--checked` class on the
//   chosen item, rendered from its model. Chorus: the app's own draft of the answers in
//   sessionStorage (`chorus:draft:…`, written by the app's change handler), holding the answer.
//   A prerendered form whose radios the browser checks before the app runs does not count.
// - cumulative layout shift: the sum of `layout-shift` entries without recent input, from the
//   document's start until a few frames after the page was interactive.
// - click → next frame: from the click event's timestamp to the end of the first frame after
//   it (requestAnimationFrame requested while the click is dispatched, then a posted message).
// - page move: from the click on "Continue" to the end of the frame that first shows the next
//   page (its heading or question has changed and its answers are visible).
// Every page load uses a fresh browser context (empty cache, like a first visit). One
// unmeasured load of each page warms the server and the operating system's file cache.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: opt } = parseArgs({
  options: {
    base: { type: "string" },
    out: { type: "string" },
    runs: { type: "string", default: "11" },
    throttle: { type: "string", default: "4" },
    clicks: { type: "string", default: "3" },
    "form-runs": { type: "string", default: "3" },
    only: { type: "string" },
    // Skip the slow-network profile (for trying the script out; the xtask runs both).
    "no-network": { type: "boolean", default: false },
  },
});
if (!opt.base || !opt.out) {
  console.error("usage: node bench/measure.mjs --base http://host:port/path/ --out result.json [--runs N]");
  process.exit(2);
}
const runs = Number(opt.runs);
const throttle = Number(opt.throttle);
const clicksPerRun = Number(opt.clicks);
const formRuns = Number(opt["form-runs"]);

const ALL_VARIANTS = [
  { id: "plain", page: "fft-plain.html", name: "plain HTML + JS (the floor)" },
  { id: "surveyjs", page: "fft-surveyjs.html", name: "SurveyJS 2.5 (survey-core + survey-js-ui)" },
  { id: "chorus", page: "fft-chorus.html", name: "Chorus (`<chorus-fft>`)" },
  {
    id: "chorus-preload",
    app: "chorus",
    page: "fft-chorus-preload.html",
    name: "Chorus with the snippet builder's preload line",
  },
];
// --only plain,surveyjs: a subset (for trying the script out; the xtask runs them all).
const VARIANTS = opt.only ? ALL_VARIANTS.filter((v) => opt.only.split(",").includes(v.id)) : ALL_VARIANTS;

// The slow mobile network: 150 ms round trip, 1.6 Mbps down, 750 kbps up (bytes per second for
// the DevTools protocol), on top of the same CPU throttling.
const MOBILE = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };
const PROFILES = [
  { id: "cpu", name: `CPU ${throttle}× slower, local network`, network: null },
  ...(opt["no-network"]
    ? []
    : [{ id: "mobile", name: `CPU ${throttle}× slower, slow mobile network (150 ms round trip, 1.6 Mbps down, 750 kbps up)`, network: MOBILE }]),
];

// Runs in the page before any of its scripts. `want` is how many visible answers mean "shown";
// `app` names the page whose own "answer taken" state ends time to interactive (none: not timed).
function probe({ want, app }) {
  const hosts = ["chorus-fft", "chorus-form", "chorus-decision-aid"];
  const roots = () => {
    const out = [document];
    for (const h of hosts) for (const el of document.querySelectorAll(h)) if (el.shadowRoot) out.push(el.shadowRoot);
    return out;
  };
  const radios = () => roots().flatMap((r) => [...r.querySelectorAll("input[type=radio]")]);
  const labelOf = (i) => (i.labels && i.labels[0]) || i.closest("label");
  const shown = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  };
  const visibleRadios = () => radios().filter((i) => shown(labelOf(i)));
  // Call `cb` with the time at which the next frame has been rendered.
  const afterFrame = (cb) =>
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => cb(performance.now());
      ch.port2.postMessage(0);
    });
  // The end of the current frame (called from a requestAnimationFrame callback).
  const frameEnd = (cb) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => cb(performance.now());
    ch.port2.postMessage(0);
  };
  // Has the page's own code taken answer `input`? (See "time to interactive" above.)
  const taken = {
    plain: (input) => input.form && input.form.dataset.answer === input.value,
    surveyjs: (input) => {
      const item = input.closest(".sd-item");
      return !!item && item.classList.contains("sd-item--checked");
    },
    chorus: (input) => {
      // The widget's radios carry no value: an answer is its place among its question's radios
      // (the FFT's answers in the core's order), kept in the widget's draft once taken.
      const ids = ["very_good", "good", "neither", "poor", "very_poor", "dont_know"];
      const answer = ids[[...input.getRootNode().querySelectorAll(`input[type=radio][name="${input.name}"]`)].indexOf(input)];
      for (let k = 0; k < sessionStorage.length; k++) {
        const key = sessionStorage.key(k);
        if (!key.startsWith("chorus:draft:")) continue;
        try {
          const answers = JSON.parse(sessionStorage.getItem(key)).a || {};
          if (Object.values(answers).includes(answer)) return true;
        } catch {}
      }
      return false;
    },
  }[app];
  const bench = (window.__bench = {
    ready: null,
    interactive: app ? null : -1,
    cls: 0,
    tries: 0,
    want,
    roots,
    radios,
    labelOf,
    shown,
    visibleRadios,
    afterFrame,
  });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) bench.cls += e.value;
  }).observe({ type: "layout-shift", buffered: true });
  let last = null;
  const interact = () => {
    if (last && taken(last)) return frameEnd((t) => (bench.interactive = t));
    const rs = visibleRadios();
    if (rs.length >= 3) {
      // Answers 1 and 2 in turn, so every click is a change.
      last = rs[1 + (bench.tries++ % 2)];
      labelOf(last).click();
      if (taken(last)) return frameEnd((t) => (bench.interactive = t));
    }
    requestAnimationFrame(interact);
  };
  const tick = () => {
    if (visibleRadios().length >= bench.want) {
      // This frame shows them: time its end, then start clicking.
      frameEnd((t) => (bench.ready = t));
      if (taken) interact();
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
  ],
});

/** A fresh context and page with the CPU (and the network, if given) throttled and the probe
 * installed. */
async function openPage(want, app = null, network = null) {
  const context = await browser.newContext({ viewport: { width: 412, height: 915 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: throttle });
  if (network) {
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", network);
  }
  await page.addInitScript(probe, { want, app });
  return { context, page, errors };
}

/** Load `url` and wait for the form (and, with `app`, for it to take a click); returns the page
 * and what the browser saw. */
async function load(url, want, app = null, network = null) {
  const { context, page, errors } = await openPage(want, app, network);
  await page.goto(url, { waitUntil: "load", timeout: 120_000 });
  await page.waitForFunction(() => window.__bench.ready !== null && window.__bench.interactive !== null, null, {
    timeout: 120_000,
  });
  // Layout shifts while the page settles: a few frames after it became interactive.
  await page.evaluate(() => new Promise((resolve) => window.__bench.afterFrame(() => window.__bench.afterFrame(resolve))));
  const seen = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    const b = window.__bench;
    return {
      ready: b.ready,
      interactive: b.interactive >= 0 ? b.interactive : null,
      cls: b.cls,
      tries: b.tries,
      fcp: fcp ? fcp.startTime : null,
      files: [nav, ...performance.getEntriesByType("resource")].map((e) => ({
        path: new URL(e.name).pathname,
        encoded: e.encodedBodySize,
        decoded: e.decodedBodySize,
        end: e.responseEnd,
      })),
    };
  });
  return { context, page, errors, seen };
}

/** Click the label of answer `index` and time it to the end of the next frame. */
async function clickAnswer(page, index) {
  const at = await page.evaluate((i) => {
    const b = window.__bench;
    const label = b.labelOf(b.radios()[i]);
    label.scrollIntoView({ block: "center" });
    const r = label.getBoundingClientRect();
    b.clicked = new Promise((resolve) => {
      window.addEventListener("click", (e) => b.afterFrame((t) => resolve(t - e.timeStamp)), { capture: true, once: true });
    });
    // Near the start of the label, where its radio and text are.
    return { x: r.left + Math.min(24, r.width / 2), y: r.top + r.height / 2 };
  }, index);
  await page.mouse.click(at.x, at.y);
  const ms = await page.evaluate(() => window.__bench.clicked);
  const checked = await page.evaluate((i) => window.__bench.radios()[i].checked, index);
  if (!checked) throw new Error(`answer ${index} was clicked but is not checked`);
  await page.waitForTimeout(150);
  return ms;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
}

const record = () => VARIANTS.map((v) => ({ ...v, ttf: [], tti: [], cls: [], fcp: [], clicks: [], files: null, milestones: {} }));
const out = {
  chromium: browser.version(),
  throttle,
  runs,
  viewport: "412×915",
  // The first profile (CPU only) is `variants`, as before; every profile is in `profiles`.
  profiles: PROFILES.map((p) => ({ id: p.id, name: p.name, network: p.network, variants: record() })),
  form: { available: false, note: "", ttf: [], moves: [], clicks: [], pages: [] },
};
out.variants = out.profiles[0].variants;

// Warm-up: one unmeasured load of each page.
for (const v of VARIANTS) {
  const { context } = await load(opt.base + v.page, 6, v.app ?? v.id);
  await context.close();
}

for (let run = 0; run < runs; run++) {
  // Rotate the order, so no page (and no profile) always goes first or last while the machine
  // is busy: every page on every profile, interleaved within each run.
  const slots = PROFILES.flatMap((_, pi) => VARIANTS.map((_, vi) => [pi, vi]));
  for (let k = 0; k < slots.length; k++) {
    const [pi, vi] = slots[(run + k) % slots.length];
    const p = PROFILES[pi];
    const v = VARIANTS[vi];
    const r = out.profiles[pi].variants[vi];
    const { context, page, errors, seen } = await load(opt.base + v.page, 6, v.app ?? v.id, p.network);
    r.ttf.push(seen.ready);
    r.tti.push(seen.interactive);
    r.cls.push(seen.cls);
    r.fcp.push(seen.fcp);
    r.files ??= seen.files.map(({ path, encoded, decoded }) => ({ path, encoded, decoded }));
    for (const f of seen.files) (r.milestones[f.path] ??= []).push(f.end);
    // Click → next frame only on the CPU profile: the network does not change it.
    if (pi === 0) for (let c = 0; c < clicksPerRun; c++) r.clicks.push(await clickAnswer(page, (run + c + 1) % 6));
    if (errors.length) throw new Error(`${v.page}: ${errors.join("; ")}`);
    await context.close();
    console.error(
      `run ${run + 1}/${runs} ${p.id.padEnd(6)} ${v.id.padEnd(8)} visible ${seen.ready.toFixed(0)} ms, interactive ${seen.interactive?.toFixed(0)} ms (${seen.tries} clicks), CLS ${seen.cls.toFixed(3)}`,
    );
  }
}
for (const p of out.profiles)
  for (const r of p.variants) r.milestones = Object.fromEntries(Object.entries(r.milestones).map(([k, xs]) => [k, median(xs)]));

// The I Statement form: page moves, once <chorus-form> exists.
{
  const { context, page } = await openPage(1);
  await page.goto(opt.base + "form-chorus.html", { waitUntil: "load" });
  out.registered = await page.evaluate(() =>
    ["chorus-fft", "chorus-form", "chorus-decision-aid"].filter((t) => customElements.get(t)),
  );
  const defined = out.registered.includes("chorus-form");
  await context.close();
  if (!defined) {
    out.form.note = "not yet available: the bundle does not register <chorus-form>";
    console.error(`I Statement form: ${out.form.note}`);
  } else {
    out.form.available = true;
    for (let run = 0; run < formRuns; run++) {
      const { context, page, errors, seen } = await load(opt.base + "form-chorus.html", 1);
      out.form.ttf.push(seen.ready);
      const pages = await walkForm(page, out.form);
      out.form.pages.push(pages);
      if (errors.length) throw new Error(`form-chorus.html: ${errors.join("; ")}`);
      await context.close();
      console.error(`form run ${run + 1}/${formRuns}: first page ${seen.ready.toFixed(0)} ms, ${pages} pages`);
    }
  }
}

/** Answer every question on each page (first answer of each group), then "Continue", timing
 * each move, until a page has no Continue button. Returns the number of pages seen. */
async function walkForm(page, rec) {
  for (let n = 1; n <= 20; n++) {
    const groups = await page.evaluate(() => {
      const b = window.__bench;
      const firsts = new Map();
      b.radios().forEach((input, i) => b.shown(b.labelOf(input)) && !firsts.has(input.name) && firsts.set(input.name, i));
      return [...firsts.values()];
    });
    for (const i of groups) rec.clicks.push(await clickAnswer(page, i));
    const at = await page.evaluate(() => {
      const b = window.__bench;
      const button = b
        .roots()
        .flatMap((r) => [...r.querySelectorAll("button")])
        .find((el) => b.shown(el) && /^\s*(continue|next|parhau|nesaf)\b/i.test(el.textContent));
      if (!button) return null;
      const signature = () =>
        b
          .roots()
          .slice(1)
          .map((r) => [...r.querySelectorAll("h1, h2, legend")].map((e) => e.textContent.trim()).join("|"))
          .join("#") + b.radios().map((i) => i.name).join(",");
      const before = signature();
      b.moved = new Promise((resolve) => {
        window.addEventListener(
          "click",
          (e) => {
            const t0 = e.timeStamp;
            const until = performance.now() + 10_000;
            const check = () => {
              const now = signature();
              if (now !== before && (b.radios().length === 0 || b.visibleRadios().length > 0)) {
                return b.afterFrame((t) => resolve({ ms: t - t0 }));
              }
              const error = b.roots().slice(1).some((r) => [...r.querySelectorAll("[class*=error-summary]")].some(b.shown));
              if (error) return resolve({ error: "an error summary appeared instead of the next page" });
              if (performance.now() > until) return resolve({ error: "the page did not change within 10 s" });
              requestAnimationFrame(check);
            };
            requestAnimationFrame(check);
          },
          { capture: true, once: true },
        );
      });
      button.scrollIntoView({ block: "center" });
      const r = button.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    if (!at) return n;
    await page.mouse.click(at.x, at.y);
    const moved = await page.evaluate(() => window.__bench.moved);
    if (moved.error) throw new Error(`I Statement form, page ${n}: ${moved.error}`);
    rec.moves.push(moved.ms);
    await page.waitForTimeout(150);
  }
  throw new Error("I Statement form: more than 20 pages, or Continue never ends");
}

await browser.close();
writeFileSync(opt.out, JSON.stringify(out, null, 2) + "\n");
