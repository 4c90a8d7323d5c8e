// Host pages we did not write (tests/e2e/fixtures/*.html, served on the collector's origin):
// hostile global CSS with a 62.5% root, a dark theme, a right-to-left page, a nonce +
// 'strict-dynamic' CSP with Trusted Types, and a CSP without 'wasm-unsafe-eval'. On each the
// widgets are readable and usable (axe: 0 violations; every radio's label sits beside its
// radio), or, when they cannot start, the element's own fallback content and a short message
// are shown instead of a blank space. Forced colours: the chosen radio and the focus ring
// survive (pixel comparison of screenshots).
import assert from "node:assert/strict";
import { basename } from "node:path";
import { test } from "node:test";
import { browser, expectNoAxeViolations, fixture, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

/** Open a fixture as `${server}/hold-out/<name>` (same origin as the bundle and the API). */
async function open(context, name, { ready = true } = {}) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    window.__csp = [];
    window.__errors = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    document.addEventListener("chorus:error", (e) => window.__errors.push(e.detail.code));
  });
  await page.route(`${server.url}/hold-out/*`, (route) =>
    route.fulfill({
      contentType: "text/html; charset=utf-8",
      body: fixture(basename(new URL(route.request().url()).pathname)),
    }),
  );
  await page.goto(`${server.url}/hold-out/${name}`);
  if (ready) {
    for (const tag of ["chorus-fft", "chorus-form"]) {
      const n = await page.locator(tag).count();
      for (let i = 0; i < n; i++) await page.locator(tag).nth(i).locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
    }
  }
  return { page, problems };
}

/**
 * Every radio in every widget on the page has its label's text beside it: on the reading
 * side of the circle (right in ltr, left in rtl), within 32px, on the same line. Returns
 * the failures, each naming the widget and the radio.
 */
async function labelsBesideRadios(page) {
  return page.evaluate(() => {
    const bad = [];
    let checked = 0;
    for (const host of document.querySelectorAll("chorus-fft, chorus-form, chorus-decision-aid")) {
      const root = host.shadowRoot;
      if (!root) continue;
      for (const input of root.querySelectorAll("input[type=radio]")) {
        const label = root.querySelector(`label[for="${input.id}"]`);
        if (!label) {
          bad.push(`${host.localName} #${input.id}: no label`);
          continue;
        }
        const range = document.createRange();
        range.selectNodeContents(label);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        const r = input.getBoundingClientRect();
        if (!rects.length) {
          bad.push(`${host.localName} #${input.id}: label has no text box`);
          continue;
        }
        const rtl = getComputedStyle(label).direction === "rtl";
        // The first line of the label's text: its start edge faces the radio.
        const t = rects[0];
        const gap = rtl ? r.left - t.right : t.left - r.right;
        const sameLine = t.top < r.bottom && t.bottom > r.top;
        if (!(gap >= 0 && gap <= 32 && sameLine)) {
          bad.push(`${host.localName} #${input.id} (${rtl ? "rtl" : "ltr"}): text ${Math.round(gap)}px from its radio${sameLine ? "" : ", on another line"}`);
        }
        checked++;
      }
    }
    return { bad, checked };
  });
}

async function expectLabelsBesideRadios(page, state) {
  const { bad, checked } = await labelsBesideRadios(page);
  assert.ok(checked >= 6, `${state}: only ${checked} radios measured`);
  assert.deepEqual(bad, [], `${state}: labels away from their radios`);
}

/** Computed style of an element inside a widget's shadow root. */
async function style(page, host, selector, props) {
  return page.evaluate(
    ([host, selector, props]) => {
      const el = document.querySelector(host).shadowRoot.querySelector(selector);
      const s = getComputedStyle(el);
      return Object.fromEntries(props.map((p) => [p, s.getPropertyValue(p)]));
    },
    [host, selector, props],
  );
}

for (const name of ["hostile.html", "dark.html", "strict-dynamic.html", "rtl.html"]) {
  test(`${name}: the widgets start, pass axe before and after an error, and every label sits beside its radio`, async () => {
    const context = await browser.newContext();
    const { page, problems } = await open(context, name);
    const widgets = await page.evaluate(() => [...document.querySelectorAll("chorus-fft, chorus-form")].map((e) => (e.id ? `#${e.id}` : e.localName)));
    await expectLabelsBesideRadios(page, `${name} first view`);
    // The fallback content is hidden once the widget has started.
    for (const w of widgets) assert.equal(await page.locator(`${w} > p.fallback`).isVisible(), false, `${w}: fallback hidden once started`);
    // The error state: an error summary whose links are big enough to hit (target size).
    const fft = page.locator("chorus-fft").first();
    await fft.locator("button[type=submit]").click();
    await fft.locator(".chorus-error-summary").waitFor();
    await expectLabelsBesideRadios(page, `${name} error`);
    // (Checked before axe runs: axe's own script is not the widget's to answer for.)
    assert.deepEqual(await page.evaluate(() => window.__csp), [], `${name}: CSP violations`);
    assert.deepEqual(problems, [], `${name}: page errors`);
    await expectNoAxeViolations(page, `${name} error`, { include: widgets });
    await page.reload();
    await page.locator("chorus-fft input[type=radio]").first().waitFor({ timeout: 15_000 });
    if (await page.locator("chorus-form").count()) await page.locator("chorus-form input[type=radio]").first().waitFor({ timeout: 15_000 });
    await expectNoAxeViolations(page, `${name} first view`, { include: widgets });
    await context.close();
  });
}

test("hostile CSS does not reach inside: text is the patient's default size, not the page's 62.5%, and nothing inherited leaks in", async () => {
  const context = await browser.newContext();
  const { page } = await open(context, "hostile.html");
  const label = await style(page, "chorus-fft", "label[for=q-fft-1]", [
    "font-size", "font-style", "font-weight", "font-family", "line-height", "letter-spacing", "word-spacing", "text-transform", "text-indent", "text-align",
  ]);
  // The page's body text is 14px (1.4rem of a 10px root); the widget's is the browser default.
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).fontSize), "14px");
  assert.equal(label["font-size"], "16px");
  assert.equal(label["font-style"], "normal");
  assert.equal(label["font-weight"], "400");
  assert.doesNotMatch(label["font-family"], /Georgia/);
  assert.equal(label["line-height"], "24px");
  assert.equal(label["letter-spacing"], "normal");
  assert.equal(label["word-spacing"], "0px");
  assert.equal(label["text-transform"], "none");
  assert.equal(label["text-indent"], "0px");
  assert.equal(label["text-align"], "start");
  // The legend is 1.375 × the default size, and the form's questions follow the same scale.
  assert.equal((await style(page, "chorus-fft", "legend", ["font-size"]))["font-size"], "22px");
  assert.equal((await style(page, "chorus-form", "label.chorus-radio__label", ["font-size"]))["font-size"], "16px");
  await context.close();
});

test("a patient's larger default font size still enlarges the widget", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Page.enable");
  await cdp.send("Page.setFontSizes", { fontSizes: { standard: 24, fixed: 20 } });
  await page.route(`${server.url}/hold-out/*`, (route) =>
    route.fulfill({ contentType: "text/html; charset=utf-8", body: fixture("hostile.html") }),
  );
  await page.goto(`${server.url}/hold-out/hostile.html`);
  await page.locator("chorus-fft input[type=radio]").first().waitFor({ timeout: 15_000 });
  assert.equal((await style(page, "chorus-fft", "label[for=q-fft-1]", ["font-size"]))["font-size"], "24px");
  assert.equal((await style(page, "chorus-fft", "legend", ["font-size"]))["font-size"], "33px");
  await expectLabelsBesideRadios(page, "24px default font");
  await context.close();
});

test("dark page: the widget paints its own light surface, so its text keeps its contrast", async () => {
  const context = await browser.newContext();
  const { page } = await open(context, "dark.html");
  for (const host of ["chorus-fft", "chorus-form"]) {
    const root = await style(page, host, "[part=root]", ["background-color", "color"]);
    assert.equal(root["background-color"], "rgb(255, 255, 255)", `${host}: own background`);
    assert.equal(root.color, "rgb(33, 43, 50)", `${host}: own text colour`);
  }
  // Printed: black on white, whatever the screen theme.
  await page.emulateMedia({ media: "print" });
  assert.deepEqual(await style(page, "chorus-fft", "[part=root]", ["background-color", "color"]), { "background-color": "rgb(255, 255, 255)", color: "rgb(0, 0, 0)" });
  await page.emulateMedia({ media: "screen" });
  // A designer's choice wins: the token set on the element is what is painted.
  await page.evaluate(() => document.querySelector("chorus-fft").style.setProperty("--chorus-colour-background", "#fffbe6"));
  assert.equal((await style(page, "chorus-fft", "[part=root]", ["background-color"]))["background-color"], "rgb(255, 251, 230)");
  await context.close();
});

test("right-to-left page: an English widget stays English and ltr; the Arabic draft is rtl and mirrored", async () => {
  const context = await browser.newContext();
  const { page } = await open(context, "rtl.html");
  const root = (id) =>
    page.evaluate((id) => {
      const r = document.getElementById(id).shadowRoot.querySelector("[part=root]");
      return { lang: r.getAttribute("lang"), dir: r.getAttribute("dir"), direction: getComputedStyle(r.querySelector("legend")).direction, legend: r.querySelector("legend").textContent.trim() };
    }, id);
  const english = await root("english");
  assert.deepEqual(english, { lang: "en", dir: "ltr", direction: "ltr", legend: "Overall, how was your experience of our service?" });
  const arabic = await root("arabic");
  assert.equal(arabic.lang, "ar");
  assert.equal(arabic.dir, "rtl");
  assert.equal(arabic.direction, "rtl");
  assert.match(arabic.legend, /[\u0600-\u06ff]/, "the Arabic widget asks in Arabic");
  // Mirrored: in the Arabic widget the circle is on the right of its label.
  const sides = await page.evaluate(() => {
    const r = document.getElementById("arabic").shadowRoot;
    const input = r.querySelector("#q-fft-1").getBoundingClientRect();
    const label = r.querySelector("label[for=q-fft-1]").getBoundingClientRect();
    return { inputLeft: input.left, labelRight: label.right };
  });
  assert.ok(sides.labelRight <= sides.inputLeft + 1, `label (right edge ${sides.labelRight}) sits left of the radio (${sides.inputLeft})`);
  // A locale change after mount is followed: the English widget becomes Arabic, then Welsh.
  await page.evaluate(() => document.getElementById("english").setAttribute("locale", "ar"));
  await page.waitForFunction(() => document.getElementById("english").shadowRoot.querySelector("[part=root]").getAttribute("lang") === "ar");
  await page.locator("#english input[type=radio]").first().waitFor();
  assert.equal((await root("english")).dir, "rtl");
  await page.evaluate(() => document.getElementById("english").setAttribute("locale", "cy"));
  await page.waitForFunction(() => document.getElementById("english").shadowRoot.querySelector("[part=root]").getAttribute("lang") === "cy");
  await page.locator("#english input[type=radio]").first().waitFor();
  assert.deepEqual(await root("english"), { lang: "cy", dir: "ltr", direction: "ltr", legend: "Yn gyffredinol, sut oedd eich profiad o'n gwasanaeth?" });
  await expectLabelsBesideRadios(page, "after the locale changes");
  await context.close();
});

test("the Arabic draft: a string with no draft yet is shown in English marked lang=en; a form with no Arabic texts is shown in English", async () => {
  const context = await browser.newContext();
  const { page } = await open(context, "rtl.html");
  // An instrument that cannot be loaded: its message has an Arabic draft, so it is not marked.
  // The results widget's words have none yet: "unavailable" is English, marked so.
  await page.evaluate(() => {
    const el = document.createElement("chorus-form");
    el.id = "missing";
    el.setAttribute("site", "demo");
    el.setAttribute("locale", "ar");
    el.setAttribute("instrument", "no-such-instrument");
    const results = document.createElement("chorus-results");
    results.id = "no-results";
    results.setAttribute("site", "no-such-site");
    results.setAttribute("locale", "ar");
    document.querySelector("main").append(el, results);
  });
  const drafted = page.locator("#missing .chorus-inset p");
  await drafted.waitFor({ timeout: 15_000 });
  assert.match(await drafted.textContent(), /هذا النموذج غير متاح/);
  assert.equal(await drafted.getAttribute("lang"), null);
  const message = page.locator("#no-results").getByText("Sorry, these results are not available at the moment.");
  await message.waitFor({ timeout: 15_000 });
  assert.equal(await message.getAttribute("lang"), "en");
  assert.equal(await message.getAttribute("dir"), "ltr");
  for (const id of ["missing", "no-results"]) {
    assert.equal(await page.evaluate((id) => document.getElementById(id).shadowRoot.querySelector("[part=root]").getAttribute("lang"), id), "ar", id);
  }
  // A form whose instrument has English only: shown whole in English, and marked so.
  await page.evaluate(() => {
    const el = document.createElement("chorus-form");
    el.id = "english-only";
    el.setAttribute("site", "demo");
    el.setAttribute("locale", "ar");
    const s = document.createElement("script");
    s.type = "application/json";
    s.textContent = JSON.stringify({
      id: "hold-out-en", version: 1, scoring: "i_statements", title: { en: "Your visit" },
      themes: [{ id: "t", title: { en: "Being heard" } }],
      items: [{ id: "s1", kind: "agreement", theme: "t", required: true, text: { en: "Staff listened to me." } }],
    });
    el.append(s);
    document.querySelector("main").append(el);
  });
  await page.locator("#english-only input[type=radio]").first().waitFor({ timeout: 15_000 });
  const r = await page.evaluate(() => {
    const root = document.getElementById("english-only").shadowRoot.querySelector("[part=root]");
    return [root.getAttribute("lang"), root.getAttribute("dir"), root.textContent.includes("Staff listened to me.")];
  });
  assert.deepEqual(r, ["en", "ltr", true]);
  await expectNoAxeViolations(page, "Arabic fallbacks", { include: ["#missing", "#no-results", "#english-only"] });
  await context.close();
});

test("an inline instrument in English only is shown in English to a Welsh page, marked lang=en, not refused", async () => {
  const context = await browser.newContext();
  const { page } = await open(context, "dark.html");
  await page.evaluate(() => {
    const el = document.querySelector("chorus-form").cloneNode(true);
    el.id = "welsh";
    el.setAttribute("locale", "cy");
    document.querySelector("main").append(el);
  });
  await page.locator("#welsh input[type=radio]").first().waitFor({ timeout: 15_000 });
  const r = await page.evaluate(() => {
    const root = document.getElementById("welsh").shadowRoot.querySelector("[part=root]");
    return { lang: root.getAttribute("lang"), text: root.textContent };
  });
  assert.equal(r.lang, "en");
  assert.match(r.text, /Staff listened to me\./);
  assert.doesNotMatch(r.text, /not available|nid yw'r ffurflen/);
  assert.deepEqual(await page.evaluate(() => window.__errors), []);
  await context.close();
});

/** The element is shown with its fallback and a short message, not blank. */
async function expectFallback(page, state) {
  for (const tag of ["chorus-fft", "chorus-form"]) {
    const el = page.locator(tag).first();
    await el.locator(".chorus-load-failed").waitFor({ timeout: 15_000 });
    assert.match(await el.locator(".chorus-load-failed").textContent(), /could not be loaded/, `${state} ${tag}: message`);
    assert.equal(await el.locator(":scope > p.fallback").isVisible(), true, `${state} ${tag}: fallback visible`);
    assert.match(await el.locator(":scope > p.fallback a").getAttribute("href"), /paper-form/);
    const [message, fallback] = [await el.locator(".chorus-load-failed").boundingBox(), await el.locator(":scope > p.fallback").boundingBox()];
    assert.ok(message.y < fallback.y, `${state} ${tag}: the apology comes before the fallback content`);
    const box = await el.boundingBox();
    assert.ok(box && box.height > 30, `${state} ${tag}: ${box?.height}px high`);
  }
  assert.ok((await page.evaluate(() => window.__errors)).includes("load_failed"), `${state}: chorus:error load_failed`);
}

test("a CSP without 'wasm-unsafe-eval': the fallback content and a short message, never a blank space", async () => {
  const context = await browser.newContext();
  const { page } = await open(context, "no-wasm-eval.html", { ready: false });
  await expectFallback(page, "no wasm-unsafe-eval");
  assert.ok((await page.evaluate(() => window.__csp)).some((v) => v.startsWith("script-src")), "the browser did block the module");
  await expectNoAxeViolations(page, "load failure", { include: ["chorus-fft", "chorus-form"] });
  await context.close();
});

test("the module cannot be fetched, or fails its integrity check: the fallback is shown", async () => {
  for (const [state, handler] of [
    ["fetch fails", (route) => route.abort("connectionrefused")],
    ["integrity fails", async (route) => {
      const res = await route.fetch();
      const body = Buffer.from(await res.body());
      body[body.length - 1] ^= 0xff;
      await route.fulfill({ response: res, body });
    }],
  ]) {
    const context = await browser.newContext();
    await context.route("**/*.wasm", handler);
    const { page } = await open(context, "hostile.html", { ready: false });
    await expectFallback(page, state);
    await context.close();
  }
});

/** Decode PNG screenshots in a blank page and count the pixels that differ between two. */
async function differingPixels(a, b) {
  const page = await browser.newPage();
  const n = await page.evaluate(async ([a, b]) => {
    const pixels = async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = new OffscreenCanvas(img.width, img.height);
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, img.width, img.height).data;
    };
    const [pa, pb] = [await pixels(a), await pixels(b)];
    if (pa.length !== pb.length) return -1;
    let diff = 0;
    for (let i = 0; i < pa.length; i += 4) {
      if (Math.abs(pa[i] - pb[i]) + Math.abs(pa[i + 1] - pb[i + 1]) + Math.abs(pa[i + 2] - pb[i + 2]) > 48) diff++;
    }
    return diff;
  }, [a.toString("base64"), b.toString("base64")]);
  await page.close();
  return n;
}

test("forced colours: the chosen radio, the focus ring and the error edge are still drawn", async () => {
  const shots = {};
  for (const forced of ["none", "active"]) {
    const context = await browser.newContext({ forcedColors: forced });
    const { page } = await open(context, "hostile.html");
    const fft = page.locator("chorus-fft");
    assert.equal(await page.evaluate(() => matchMedia("(forced-colors: active)").matches), forced === "active");
    const box = await fft.locator("#q-fft-1").boundingBox();
    const clip = { x: box.x - 10, y: box.y - 10, width: box.width + 20, height: box.height + 20 };
    const shot = () => page.screenshot({ clip, animations: "disabled", caret: "hide" });
    const plain = await shot();
    // Selected (by mouse, so no keyboard focus ring yet), then nothing focused.
    await fft.locator("label[for=q-fft-1]").click();
    await page.evaluate(() => document.querySelector("chorus-fft").shadowRoot.activeElement?.blur());
    const chosen = await shot();
    // From the keyboard: Shift+Tab from the text box enters the radio group at the chosen radio.
    await fft.locator("#q-why").focus();
    await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => document.querySelector("chorus-fft").shadowRoot.activeElement?.id), "q-fft-1");
    const focused = await shot();
    shots[forced] = { plain, chosen, focused };
    // An error: the question's group gets a thick edge on its reading side, in forced colours
    // too. (The edge is compared with an empty strip at the group's far end: without the edge,
    // the group's first 4px are empty as well.)
    const group = fft.locator(".chorus-form-group").first();
    // The widget keeps a draft of the answer across reloads: start this part unanswered.
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await fft.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
    await fft.locator("button[type=submit]").click();
    await fft.locator(".chorus-error-summary").waitFor();
    const g = await group.boundingBox();
    const edge = await page.screenshot({ clip: { x: g.x, y: g.y + 40, width: 4, height: 80 }, animations: "disabled" });
    const blank = await page.screenshot({ clip: { x: g.x + g.width - 8, y: g.y + 40, width: 4, height: 80 }, animations: "disabled" });
    const edgeDiff = await differingPixels(edge, blank);
    assert.ok(edgeDiff > 240, `${forced}: the error edge is drawn (${edgeDiff} of 320 pixels)`);
    const chosenDiff = await differingPixels(plain, chosen);
    const focusDiff = await differingPixels(chosen, focused);
    assert.ok(chosenDiff > 100, `${forced}: choosing a radio changes ${chosenDiff} pixels around it`);
    assert.ok(focusDiff > 100, `${forced}: focusing it changes ${focusDiff} pixels around it`);
    await context.close();
  }
  // The emulation really repaints in system colours (so the checks above are in forced colours).
  assert.ok((await differingPixels(shots.none.chosen, shots.active.chosen)) > 0, "forced colours change the rendering");
});

test("the playground checks a see-through background against the designer's page colour", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/playground.html`);
  await page.locator(".playground__preview chorus-fft input[type=radio]").first().waitFor({ timeout: 15_000 });
  const row = page.locator('tr[data-pair="Body text on background"]');
  const warning = page.locator("#background-warning");
  // The default, solid white: passes, and there is nothing to warn about.
  assert.match(await row.textContent(), /Pass/);
  assert.equal((await warning.textContent()).trim(), "");
  // Transparent on a dark page: the widget's dark text fails on it, and the playground says so.
  await page.getByLabel("--chorus-colour-background", { exact: true }).fill("transparent");
  await page.getByLabel("Page colour behind the widgets", { exact: true }).fill("#111111");
  await page.waitForFunction(() => document.getElementById("background-warning").textContent.includes("Warning"));
  assert.match(await row.textContent(), /Fails AA/);
  assert.match(await warning.textContent(), /#111111/);
  // The preview shows the page colour, and the widget lets it through.
  assert.equal(await page.locator(".playground__preview").evaluate((e) => getComputedStyle(e).backgroundColor), "rgb(17, 17, 17)");
  assert.equal(await page.locator(".playground__preview chorus-fft").evaluate((e) => getComputedStyle(e.shadowRoot.querySelector("[part=root]")).backgroundColor), "rgba(0, 0, 0, 0)");
  // Transparent on a light page passes again, with a reminder rather than a warning.
  await page.getByLabel("Page colour behind the widgets", { exact: true }).fill("#fafafa");
  await page.waitForFunction(() => !document.getElementById("background-warning").textContent.includes("Warning"));
  assert.match(await row.textContent(), /Pass/);
  assert.match(await warning.textContent(), /see-through/);
  await context.close();
});

test("the page does not jump while the widgets start and load (cumulative layout shift), on a slow phone", async () => {
  for (const path of ["/", "/feedback.html", "/decision-aid.html"]) {
    const context = await browser.newContext({ viewport: { width: 412, height: 915 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await page.addInitScript(() => {
      window.__cls = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
      }).observe({ type: "layout-shift", buffered: true });
    });
    await page.goto(`${server.url}${path}`);
    await page.locator("chorus-fft, chorus-form, chorus-decision-aid").first().locator("button").first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1000);
    const cls = await page.evaluate(() => window.__cls);
    assert.ok(cls < 0.05, `${path}: cumulative layout shift ${cls.toFixed(3)}`);
    await context.close();
  }
});

test("the space held while loading is let go once the widget has drawn: the confirmation is its own height", async () => {
  const context = await browser.newContext();
  const { page } = await open(context, "dark.html");
  const fft = page.locator("chorus-fft");
  await fft.locator("label[for=q-fft-1]").click();
  await fft.locator("button[type=submit]").click();
  await fft.locator("[part=confirmation]").waitFor({ timeout: 15_000 });
  // The panel, and under it the withdrawal code where the site allows it.
  const [widget, panel] = await page.evaluate(() => {
    const el = document.querySelector("chorus-fft");
    const top = el.shadowRoot.querySelector("[part=confirmation]").getBoundingClientRect().top;
    const last = el.shadowRoot.querySelector("[part=withdraw]") ?? el.shadowRoot.querySelector("[part=confirmation]");
    const margin = parseFloat(getComputedStyle(last).marginBottom);
    return [el.getBoundingClientRect().height, last.getBoundingClientRect().bottom + margin - top];
  });
  assert.ok(widget <= panel + 2, `the widget (${widget}px) is no taller than its confirmation panel and code (${panel}px)`);
  await context.close();
});

test("the Back link is named \"Back\" (its chevron is decoration) and points the reading way", async () => {
  const context = await browser.newContext();
  const { page } = await open(context, "hostile.html");
  const form = page.locator("chorus-form");
  await form.locator("label[for=q-s1-1]").click();
  await form.locator("button[type=submit]").click();
  const back = form.getByRole("button", { name: "Back", exact: true });
  await back.waitFor({ timeout: 15_000 });
  assert.equal(await back.count(), 1);
  const chevron = await back.evaluate((b) => getComputedStyle(b, "::before").content);
  assert.match(chevron, /‹/);
  await context.close();
});

test("on an NHS.UK frontend page the widget's surface is the page's own background, with white controls", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/nhsuk.html`);
  await page.locator("chorus-fft input[type=radio]").first().waitFor({ timeout: 15_000 });
  const body = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(body, "rgb(240, 244, 245)");
  assert.equal((await style(page, "chorus-fft", "[part=root]", ["background-color"]))["background-color"], body);
  assert.equal((await page.locator("chorus-fft label[for=q-fft-1]").evaluate((l) => getComputedStyle(l, "::before").backgroundColor)), "rgb(255, 255, 255)");
  assert.equal((await style(page, "chorus-fft", "textarea", ["background-color"]))["background-color"], "rgb(255, 255, 255)");
  await context.close();
});
