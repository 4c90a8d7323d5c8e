// Languages beyond the bundle's (Arabic, Polish, Urdu, Romanian drafts) are fetched on demand: only
// by a page that asks for one (the element's locale, else the page's lang, else the browser's; the
// Arabic machine draft only by the element's locale), and
// only intact (the loader pins each file's SRI hash, as it pins the module). Urdu renders right
// to left with axe passing; a tampered file falls back to English with a console note. The
// easy-read FFT is whole in each fetched locale, and manifest.json tells web teams which
// wordings of the FFT's mandated question are approved (English) and which are drafts.
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

test("the element's locale beats the page's lang, which beats the browser's language", async () => {
  {
    // A Polish page, a Romanian browser, locale="ur": Urdu, and only Urdu's file.
    const { context, fft, seen, root } = await open({ lang: "pl", attrs: 'locale="ur"', contextOptions: { locale: "ro-RO" } });
    assert.deepEqual([await root.getAttribute("lang"), await root.getAttribute("dir")], ["ur", "rtl"]);
    assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "رائے بھیجیں");
    assert.equal(seen.files.length, 1);
    assert.match(seen.files[0], /\/embed\/chorus-ur-[0-9a-f]{10}\.json$/);
    await context.close();
  }
  {
    // locale="en" on a Polish page: English, nothing fetched.
    const { context, fft, seen, root } = await open({ lang: "pl", attrs: 'locale="en"' });
    assert.equal(await root.getAttribute("lang"), "en");
    assert.equal((await fft.locator("button[type=submit]").innerText()).trim(), "Send feedback");
    assert.deepEqual(seen.files, []);
    await context.close();
  }
  {
    // A Romanian page in a Polish browser: Romanian.
    const { context, fft, seen, root } = await open({ lang: "ro-RO", contextOptions: { locale: "pl-PL" } });
    assert.equal(await root.getAttribute("lang"), "ro");
    assert.equal((await fft.locator("legend").first().innerText()).trim(), "În general, cum a fost experiența dumneavoastră cu serviciul nostru?");
    assert.equal(seen.files.length, 1);
    assert.match(seen.files[0], /\/embed\/chorus-ro-[0-9a-f]{10}\.json$/);
    await context.close();
  }
});

// The easy-read FFT (fetched from the server, drawn with its symbols) in each fetched locale:
// its own title, hint and follow-up in that language, none of it left in English.
for (const [locale, dir, title, hint] of [
  ["pl", "ltr", "Powiedz nam, co myślisz", "Pomyśl o wszystkim, co działo się podczas wizyty."],
  ["ur", "rtl", "ہمیں بتائیں کہ آپ کیا سوچتے ہیں", "اپنی ملاقات کے دوران ہونے والی ہر بات کے بارے میں سوچیں۔"],
  ["ro", "ltr", "Spuneți-ne ce credeți", "Gândiți-vă la tot ce s-a întâmplat în timpul vizitei."],
  ["ar", "rtl", "أخبرنا برأيك", "فكّر في كل ما حدث خلال زيارتك."],
]) {
  test(`the easy-read FFT is whole in the ${locale} draft (${dir}), axe clean at 320px`, async () => {
    const { context, page, fft, root } = await open({ lang: locale, attrs: `instrument="fft-easy-read" locale="${locale}"` });
    assert.deepEqual([await root.getAttribute("lang"), await root.getAttribute("dir")], [locale, dir]);
    const form = fft.locator("form");
    assert.equal(await form.evaluate((f) => getComputedStyle(f).direction), dir);
    const text = await form.innerText();
    assert.ok(text.includes(title), `no "${title}" in: ${text}`);
    assert.ok(text.includes(hint), `no "${hint}" in: ${text}`);
    for (const english of ["Tell us what you think", "Think about everything", "Very good", "Overall, how was"]) {
      assert.ok(!text.includes(english), `"${english}" is still English in the ${locale} easy-read FFT`);
    }
    assert.equal(await fft.locator("[lang=en]").count(), 0, "some text is marked as English");
    // The symbols are still there, one per answer.
    assert.equal(await fft.locator("input[type=radio]").count(), 6);
    assert.ok(text.includes("😀"), "the easy-read symbols are missing");
    await expectNoAxeViolations(page, `easy-read FFT in ${locale}`, { include: "chorus-fft", minPasses: 5 });
    await expectFits(page, `easy-read FFT in ${locale}`);
    await page.screenshot({ path: `${process.env.CHORUS_ARTIFACTS ?? "/tmp"}/fft-easy-read-${locale}-320.png`, fullPage: true });
    await context.close();
  });
}

test("manifest.json gives web teams the FFT question's translation status: English approved, every translation a draft", async () => {
  const manifest = await (await fetch(`${server.url}/embed/manifest.json`)).json();
  assert.equal(manifest.fft_question.text, "Overall, how was your experience of our service?");
  assert.deepEqual(manifest.fft_question.status, { en: "approved", cy: "draft", ar: "draft", pl: "draft", ro: "draft", ur: "draft" });
  assert.deepEqual(
    manifest.locales.map((l) => [l.locale, l.fft_question]),
    [["ar", "draft"], ["pl", "draft"], ["ro", "draft"], ["ur", "draft"]],
  );
  // And each fetched file says so itself, as the widget receives it.
  for (const l of manifest.locales) {
    const file = await (await fetch(`${server.url}/embed/${l.file}`)).json();
    assert.equal(file.fft_question, "draft", l.locale);
    assert.match(file.status, /awaiting review by a fluent speaker/);
  }
});
