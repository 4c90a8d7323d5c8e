// Languages beyond the bundle's (Arabic, Polish, Urdu, Romanian drafts) are fetched on demand: only
// by a page that asks for one (the element's locale, else the page's lang, else the browser's; the
// Arabic machine draft only by the element's locale), and
// only intact (the loader pins each file's SRI hash, as it pins the module). Urdu renders right
// to left with axe passing; a tampered file falls back to English with a console note.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browser, expectFits, expectNoAxeViolations, server, useServerAndBrowser } from "./support.mjs";

useServerAndBrowser();

/** A page on the server's origin with one `<chorus-fft>`; records locale-file requests and console lines. */
async function open({ lang = "en", attrs = "", contextOptions = {}, tamper = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 }, ...contextOptions });
  const page = await context.newPage();
  const seen = { files: [], console: [] };
  page.on("console", (m) => seen.console.push(m.text()));
  page.on("request", (r) => {
    if (/\/embed\/chorus-[a-z]+-[0-9a-f]+\.json$/.test(r.url())) seen.files.push(new URL(r.url()).pathname);
  });
  if (tamper) {
    // One word changed on the way: the bytes no longer match the hash chorus.js carries.
    await page.route(/\/embed\/chorus-[a-z]+-[0-9a-f]+\.json$/, async (route) => {
      const res = await route.fetch();
      const words = await res.json();
      words.strings.send_feedback = "Tampered";
      const headers = { ...res.headers() };
      delete headers["content-length"];
      delete headers["content-encoding"];
      await route.fulfill({ status: res.status(), headers, body: JSON.stringify(words) });
    });
  }
  const htmlLang = lang === null ? "" : ` lang="${lang}"`;
  await page.route(`${server.url}/locale-test`, (route) =>
    route.fulfill({
      contentType: "text/html; charset=utf-8",
      body: `<!doctype html><html${htmlLang}><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Locale test</title><script src="/embed/chorus.js" defer></script></head><body><main><h1>Feedback</h1><chorus-fft site="demo" service="locales" ${attrs}></chorus-fft></main></body></html>`,
    }),
  );
  await page.goto(`${server.url}/locale-test`);
  const fft = page.locator("chorus-fft");
  await fft.locator("input[type=radio]").first().waitFor({ timeout: 15_000 });
  return { context, page, fft, seen, root: fft.locator("[part=root]") };
}

test('locale="ur" fetches the Urdu file and renders right to left in Urdu, axe clean', async () => {
  const { context, page, fft, seen, root } = await open({ attrs: 'locale="ur"' });
  assert.equal(await root.getAttribute("lang"), "ur");
  assert.equal(await root.getAttribute("dir"), "rtl");
  assert.equal(await fft.locator("form").evaluate((f) => getComputedStyle(f).direction), "rtl");
  assert.equal((await fft.locator("legend").first().innerText()).trim(), "مجموعی طور پر، ہماری سروس کے ساتھ آپ کا تجربہ کیسا رہا؟");
  assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "رائے بھیجیں");
  assert.equal(seen.files.length, 1);
  assert.match(seen.files[0], /\/embed\/chorus-ur-[0-9a-f]{10}\.json$/);
  await expectNoAxeViolations(page, "FFT in Urdu", { include: "chorus-fft", minPasses: 5 });
  await expectFits(page, "FFT in Urdu");
  // Sent from the Urdu widget: the receipt in Urdu.
  await fft.locator("#q-fft-1").check();
  await fft.locator("button[type=submit]").click();
  await fft.locator(".chorus-panel").waitFor({ timeout: 15_000 });
  assert.match(await fft.locator(".chorus-panel").innerText(), /شکریہ/);
  await expectNoAxeViolations(page, "FFT in Urdu, sent", { include: "chorus-fft" });
  await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/fft-ur-320.png`, fullPage: true });
  await context.close();
});

test("an English or Welsh page fetches no locale file", async () => {
  for (const lang of ["en", "cy"]) {
    const { context, seen, root } = await open({ lang });
    assert.equal(await root.getAttribute("lang"), lang);
    assert.deepEqual(seen.files, [], `a ${lang} page fetched a locale file`);
    await context.close();
  }
});

test("the page's lang, else the browser's language, chooses a fetched locale", async () => {
  {
    const { context, fft, root } = await open({ lang: "pl" });
    assert.equal(await root.getAttribute("lang"), "pl");
    assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "Wyślij opinię");
    await context.close();
  }
  {
    const { context, fft, root } = await open({ lang: null, contextOptions: { locale: "ro-RO" } });
    assert.equal(await root.getAttribute("lang"), "ro");
    assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "Trimiteți feedbackul");
    await context.close();
  }
});

test("a tampered locale file (integrity mismatch) falls back to English, with a console note", async () => {
  const { context, page, fft, seen, root } = await open({ attrs: 'locale="ur"', tamper: true });
  assert.equal(seen.files.length, 1, "the Urdu file was not even asked for");
  assert.equal(await root.getAttribute("lang"), "en");
  assert.equal(await root.getAttribute("dir"), "ltr");
  assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "Send feedback");
  assert.equal((await fft.locator("legend").first().innerText()).trim(), "Overall, how was your experience of our service?");
  assert.ok(
    seen.console.some((l) => l.includes('the "ur" words could not be loaded, so the widget is shown in English')),
    seen.console.join("\n"),
  );
  await expectNoAxeViolations(page, "FFT after a tampered locale", { include: "chorus-fft" });
  await context.close();
});

test('the Arabic draft is fetched too: locale="ar" is right to left in Arabic; an Arabic page alone gets English and fetches nothing; a tampered file is English', async () => {
  {
    const { context, page, fft, seen, root } = await open({ attrs: 'locale="ar"' });
    assert.deepEqual([await root.getAttribute("lang"), await root.getAttribute("dir")], ["ar", "rtl"]);
    assert.equal((await fft.locator("legend").first().innerText()).trim(), "بشكل عام، كيف كانت تجربتك مع خدمتنا؟");
    assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "أرسل ملاحظاتك");
    assert.equal(seen.files.length, 1);
    assert.match(seen.files[0], /\/embed\/chorus-ar-[0-9a-f]{10}\.json$/);
    await expectNoAxeViolations(page, "FFT in Arabic", { include: "chorus-fft", minPasses: 5 });
    await context.close();
  }
  {
    const { context, seen, root } = await open({ lang: "ar" });
    assert.deepEqual([await root.getAttribute("lang"), await root.getAttribute("dir")], ["en", "ltr"]);
    assert.deepEqual(seen.files, [], "an Arabic page with no locale fetched a locale file");
    await context.close();
  }
  {
    const { context, fft, seen, root } = await open({ attrs: 'locale="ar"', tamper: true });
    assert.equal(seen.files.length, 1);
    assert.deepEqual([await root.getAttribute("lang"), await root.getAttribute("dir")], ["en", "ltr"]);
    assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "Send feedback");
    assert.ok(
      seen.console.some((l) => l.includes('the "ar" words could not be loaded, so the widget is shown in English')),
      seen.console.join("\n"),
    );
    await context.close();
  }
});
