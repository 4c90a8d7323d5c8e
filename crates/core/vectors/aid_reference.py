#!/usr/bin/env python3
"""Writes `definitions-aid.json`: the definition rules of a decision aid's own parts
(`crates/core/src/aid.rs`: outcome rates, `about`, percentages in text), checked through
`chorus_core::aid::load` on the whole file. Every expectation below is written by hand from
the rules, not computed, so a vector never comes from the code it tests:

    python3 crates/core/vectors/aid_reference.py
"""

import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
D = "Definition validation: decision aid"


def T(en):
    return {"en": en, "cy": en + " (cy)"}


ABOUT = {"authors": ["A. Author"], "produced": "2026-01-15", "next_review": "2027-01-15",
         "funding": T("Funded by nobody."), "conflicts": T("None."), "not_for": T("Not advice."),
         "references": [{"id": "r1", "citation": "A study, 2025.", "url": "https://example.org/r1"}]}


def rate(option, events, per=100, over=None, **kw):
    r = {"option": option, "events": events, "per": per, "over": over or {"years": 10}}
    r.update(kw)
    return r


def outcome(rates=None, **kw):
    o = {"population": T("People like you"), "event": T("have a stroke"),
         "no_event": T("do not have a stroke"), "source": "r1",
         "rates": rates if rates is not None else [rate("a", 12), rate("b", 8)]}
    o.update(kw)
    return o


def aid(about=ABOUT, items=None, options=("a", "b"), **kw):
    d = {"id": "t", "version": 1, "scoring": "decision_aid", "title": T("Title"),
         "options": [{"id": o, "text": T(o.upper())} for o in options],
         "items": items if items is not None else [{"id": "o", "kind": "outcome", "text": T("Stroke"), "outcome": outcome()}]}
    if about is not None:
        d["about"] = about
    d.update(kw)
    return d


def about(**kw):
    a = copy.deepcopy(ABOUT)
    for k, v in kw.items():
        if v is None:
            a.pop(k, None)
        else:
            a[k] = v
    return a


def cases():
    out = []

    def case(name, definition, problems):
        out.append({"name": name, "rule": D, "definition": definition,
                    "expect_problems": [{"path": p, "code": c} for p, c in problems]})

    R = "$.items[0].outcome"
    case("a complete aid with one outcome", aid(), [])
    case("an aid without about (so its outcome's source is unknown too)", aid(about=None),
         [("$.about", "missing_metadata"), (R + ".source", "unknown_reference")])
    case("no authors", aid(about=about(authors=[])), [("$.about.authors", "missing_metadata")])
    case("blank author", aid(about=about(authors=[" "])), [("$.about.authors", "missing_metadata")])
    case("produced is not a real date", aid(about=about(produced="2026-02-30")), [("$.about.produced", "invalid_date")])
    case("review date written another way", aid(about=about(next_review="15/01/2027")), [("$.about.next_review", "invalid_date")])
    case("no review date", aid(about=about(next_review=None)), [("$.about.next_review", "missing_metadata")])
    case("review not after production", aid(about=about(next_review="2026-01-15")), [("$.about.next_review", "invalid_date")])
    case("no funding", aid(about=about(funding=None)), [("$.about.funding", "missing_metadata")])
    case("no conflicts", aid(about=about(conflicts=None)), [("$.about.conflicts", "missing_metadata")])
    case("no statement of what the aid is not", aid(about=about(not_for=None)), [("$.about.not_for", "missing_metadata")])
    case("Welsh missing on funding", aid(about=about(funding={"en": "F"})), [("$.about.funding.cy", "missing_translation")])
    case("no references (and so an unknown source)", aid(about=about(references=[])),
         [("$.about.references", "missing_metadata"), (R + ".source", "unknown_reference")])
    case("a reference with neither link nor identifier", aid(about=about(references=[{"id": "r1", "citation": "C"}])),
         [("$.about.references[0].url", "missing_link")])
    case("a reference with a link that is not http(s)", aid(about=about(references=[{"id": "r1", "citation": "C", "url": "ftp://x"}])),
         [("$.about.references[0].url", "missing_link")])
    case("a reference with an identifier only", aid(about=about(references=[{"id": "r1", "citation": "C", "identifier": "doi:10.1000/182"}])), [])
    case("a reference without its citation", aid(about=about(references=[{"id": "r1", "citation": " ", "url": "https://e.org"}])),
         [("$.about.references[0].citation", "missing_metadata")])
    case("two references with one id", aid(about=about(references=[ABOUT["references"][0], ABOUT["references"][0]])),
         [("$.about.references[1].id", "duplicate_id")])
    case("an outcome citing an unknown source", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome(source="r9")}]),
         [(R + ".source", "unknown_reference")])
    case("an outcome item without its outcome", aid(items=[{"id": "o", "kind": "outcome", "text": T("S")}]), [(R, "missing_rate")])
    case("an option without a rate", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12)])}]),
         [(R + ".rates", "missing_rate")])
    case("mixed denominators", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12), rate("b", 80, per=1000)])}]),
         [(R + ".rates[1].per", "mixed_denominators")])
    case("mixed time frames (10 years beside 120 months)",
         aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12), rate("b", 8, over={"months": 120})])}]),
         [(R + ".rates[1].over", "mixed_time_frames")])
    case("more events than people", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 120), rate("b", 8)])}]),
         [(R + ".rates[0].events", "rate_above_denominator")])
    case("every person is allowed", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 100), rate("b", 0)])}]), [])
    case("an uncertainty range above the denominator",
         aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 90, low=80, high=101), rate("b", 8)])}]),
         [(R + ".rates[0].events", "rate_above_denominator")])
    case("a denominator of 50", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12, per=50), rate("b", 8, per=50)])}]),
         [(R + ".rates[0].per", "invalid_rate"), (R + ".rates[1].per", "invalid_rate")])
    case("low without high", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12, low=9), rate("b", 8)])}]),
         [(R + ".rates[0].low", "invalid_rate")])
    case("a range that misses the rate", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12, low=13, high=15), rate("b", 8)])}]),
         [(R + ".rates[0].low", "invalid_rate")])
    case("a range that holds the rate", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12, low=12, high=15), rate("b", 8, low=5, high=11)])}]), [])
    case("a time frame of zero years", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12, over={"years": 0}), rate("b", 8, over={"years": 0})])}]),
         [(R + ".rates[0].over", "invalid_rate"), (R + ".rates[1].over", "invalid_rate")])
    case("a rate for an unknown option", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12), rate("c", 8)])}]),
         [(R + ".rates[1].option", "unknown_option"), (R + ".rates", "missing_rate")])
    case("two rates for one option", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12), rate("a", 8)])}]),
         [(R + ".rates[1].option", "duplicate_id"), (R + ".rates", "missing_rate")])
    case("Welsh missing on who the numbers are for",
         aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome(population={"en": "People"})}]),
         [(R + ".population.cy", "missing_translation")])
    case("an outcome with one option", aid(options=("a",), items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 12)])}]),
         [("$.options", "invalid_option_count"), ("$.options", "invalid_option_count")])
    case("a negative rate is not a rate", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", -1), rate("b", 8)])}]),
         [("$", "invalid_json")])
    case("a time frame in fortnights", aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome([rate("a", 1, over={"fortnights": 2}), rate("b", 8)])}]),
         [("$", "invalid_json")])
    case("an outcome marked required", aid(items=[{"id": "o", "kind": "outcome", "required": True, "text": T("S"), "outcome": outcome()}]),
         [("$.items[0].required", "not_answerable")])
    case("a percentage in the intro", aid(intro={"en": "About 12% of people have a stroke.", "cy": "Tua 12 y cant."}),
         [("$.intro.en", "percentage_in_text"), ("$.intro.cy", "percentage_in_text")])
    case("a percentage written in words after a number", aid(intro={"en": "Around 12.5 per cent of people.", "cy": "Tua 12 percent."}),
         [("$.intro.en", "percentage_in_text"), ("$.intro.cy", "percentage_in_text")])
    case("a percentage inside an outcome's words",
         aid(items=[{"id": "o", "kind": "outcome", "text": T("S"), "outcome": outcome(event=T("have a stroke (12 %)"))}]),
         [(R + ".event.en", "percentage_in_text"), (R + ".event.cy", "percentage_in_text")])
    case("a number that is not a percentage", aid(intro=T("Take 2 tablets a day for 10 years. Percent signs alone: %.")), [])
    case("a percentage in a survey is not refused",
         {"id": "s", "version": 1, "scoring": "none", "title": T("Title"), "intro": T("12% of people answered."),
          "items": [{"id": "q", "kind": "yes_no", "text": T("Q")}]}, [])
    return out


if __name__ == "__main__":
    with open(os.path.join(HERE, "definitions-aid.json"), "w") as fh:
        json.dump(cases(), fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"definitions-aid.json: {len(cases())} vectors")
