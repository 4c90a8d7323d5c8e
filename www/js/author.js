// Decision aid checker: sends the editor's text to this server's `POST /api/v1/check` (the
// core's `standards::check`, as `chorus check` runs it) as the author types, lists what it
// found, shows the self-assessment, and redraws the aid in a live preview with the real
// widget (an inline instrument, so the preview needs no server and sends nothing).

const $ = (id) => document.getElementById(id);
const WAIT_MS = 400;
let timer = null;
let asked = 0;

/** An element with text (never HTML: the file is the author's, shown back as text). */
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

async function loadExamples() {
  const select = $("start");
  const res = await fetch("/api/v1/instruments");
  if (!res.ok) return;
  const list = await res.json();
  for (const i of list.filter((i) => i.scoring === "decision_aid")) {
    const o = el("option", i.title?.en ?? i.id);
    o.value = i.id;
    select.append(o);
  }
  const wanted = new URLSearchParams(location.search).get("aid");
  if (wanted && list.some((i) => i.id === wanted)) {
    select.value = wanted;
    await loadExample(wanted);
  }
}

async function loadExample(id) {
  if (!id) return;
  const res = await fetch(`/api/v1/instruments/${encodeURIComponent(id)}`);
  if (!res.ok) {
    $("summary").textContent = `Could not load the example (${res.status}).`;
    return;
  }
  $("aid-json").value = JSON.stringify(await res.json(), null, 2);
  await check();
}

function findingList(items, kind) {
  const ul = el("ul", undefined, "author__findings");
  for (const f of items) {
    const li = el("li", undefined, kind === "error" ? "author__error" : "author__warning");
    li.append(el("strong", kind === "error" ? "Error: " : "Warning: "));
    li.append(document.createTextNode(f.message + " "));
    const where = el("span", undefined, "field__hint");
    where.append(document.createTextNode("At "), el("code", f.path), document.createTextNode(` (${f.code})`));
    if (f.criterion_name) where.append(document.createTextNode(`. Criterion: ${f.criterion_name}`));
    li.append(el("br"), where);
    ul.append(li);
  }
  return ul;
}

function showFindings(answer) {
  const n = answer.problems.length;
  const w = answer.lints.length;
  const box = $("findings");
  box.replaceChildren();
  $("summary").textContent =
    n === 0 && w === 0
      ? `No errors and no warnings (checked as of ${answer.checked_as_of}).`
      : `${n} ${n === 1 ? "error" : "errors"} and ${w} ${w === 1 ? "warning" : "warnings"} (checked as of ${answer.checked_as_of}).`;
  if (n > 0) {
    box.append(el("h3", "Errors: the aid cannot be used until these are fixed"), findingList(answer.problems, "error"));
  }
  if (w > 0) {
    box.append(el("h3", "Warnings: what the standards ask for"), findingList(answer.lints, "warning"));
  }
  if (n === 0 && w === 0) box.append(el("p", "The file passes every definition rule and every standards check Chorus can make.", "author__ok"));
}

function showAssessment(answer) {
  const box = $("assessment");
  box.replaceChildren();
  $("assessment-markdown").textContent = answer.self_assessment_markdown ?? "";
  if (!answer.assessment) {
    box.append(el("p", "No self-assessment: it is made for decision aids whose file parses."));
    return;
  }
  const wrap = el("div");
  wrap.className = "table-wrap";
  wrap.tabIndex = 0;
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", "Self-assessment");
  const table = el("table");
  table.id = "assessment-table";
  table.append(el("caption", "IPDAS and NICE NG197 criteria", "visually-hidden"));
  const head = el("tr");
  for (const h of ["Criterion", "Verdict", "How it is checked"]) {
    const th = el("th", h);
    th.scope = "col";
    head.append(th);
  }
  const thead = el("thead");
  thead.append(head);
  table.append(thead);
  const body = el("tbody");
  for (const row of answer.assessment) {
    const tr = el("tr");
    tr.dataset.status = row.status;
    const th = el("th", `${row.standard}: ${row.name}`);
    th.scope = "row";
    const verdict = el("td");
    verdict.append(row.status === "not_met" ? el("strong", row.status_words) : document.createTextNode(row.status_words));
    for (const f of row.findings) verdict.append(el("br"), el("code", f));
    tr.append(th, verdict, el("td", row.check));
    body.append(tr);
  }
  table.append(body);
  wrap.append(table);
  box.append(wrap);
}

/** The live preview: a fresh widget each time, the file inline, only when it is usable JSON. */
function showPreview(text, answer) {
  const box = $("preview");
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    box.replaceChildren(el("p", "The preview appears once the file is valid JSON."));
    return;
  }
  if (answer.problems.length > 0) {
    box.replaceChildren(el("p", "The preview appears once the errors are fixed."));
    return;
  }
  const aid = document.createElement("chorus-decision-aid");
  const script = document.createElement("script");
  script.type = "application/json";
  script.textContent = JSON.stringify(parsed);
  aid.append(script);
  box.replaceChildren(aid);
}

async function check() {
  const text = $("aid-json").value;
  const mine = ++asked;
  if (!text.trim()) {
    $("summary").textContent = "";
    $("findings").replaceChildren();
    return;
  }
  let answer;
  try {
    const res = await fetch("/api/v1/check", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    answer = await res.json();
    if (!res.ok) throw new Error(answer?.error?.message ?? `status ${res.status}`);
  } catch (e) {
    if (mine === asked) $("summary").textContent = `The check could not run: ${e.message}`;
    return;
  }
  if (mine !== asked) return; // a later edit's answer is on its way
  showFindings(answer);
  showAssessment(answer);
  showPreview(text, answer);
}

$("aid-json").addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(check, WAIT_MS);
});
$("start").addEventListener("change", (e) => loadExample(e.target.value));
loadExamples();
