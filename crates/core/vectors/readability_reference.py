#!/usr/bin/env python3
"""Writes `readability.json`: English texts with their Flesch–Kincaid figures from textstat
(an independent implementation: pyphen's hyphenation dictionary counts the syllables, not
spelling rules like the core's). Run with the pinned packages:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install -r crates/core/vectors/requirements-readability.txt
    /tmp/venv/bin/python crates/core/vectors/readability_reference.py

Texts are chosen so textstat and the core split them the same way: every sentence has three
or more words (textstat drops shorter ones from its sentence count) and no decimal points
or abbreviations (textstat ends a sentence at every full stop). The English texts of the
shipped decision aids with five or more words are included, so the vectors move with them.
"""

import json
import os

import textstat

# Hyphenation is not pronunciation: pyphen will not break a word within two letters of either
# end, so "over", "many" and "tablets" come out as one syllable. Where textstat's count and
# the core's differ, a person counted the syllables as the word is said (a dictionary's
# first pronunciation) and the count is written here; every other word keeps pyphen's. The
# expected figures are textstat's with these corrections (its own figures are kept too).
HAND = {
    "about": 2, "again": 2, "against": 2, "alongside": 3, "anaesthetic": 4, "around": 2,
    "arthroplasty": 4, "avoiding": 3, "cardiovascular": 6, "changes": 2, "comorbidities": 5,
    "considerable": 5, "contraindications": 6, "dizziness": 3, "even": 2, "every": 2,
    "intravenous": 4, "longterm": 2, "many": 2, "medicines": 3, "nobody": 3,
    "osteoarthritis": 6, "over": 2, "physiotherapist": 6, "project": 2, "recovery": 4,
    "replaces": 3, "suitability": 5, "swollen": 2, "tablet": 2, "tablets": 2,
    "uncomfortable": 5, "usually": 4, "aching": 2, "anything": 3, "arthritis": 3, "away": 2,
    "chances": 2, "cholesterol": 4, "easy": 2, "physio": 3, "statin": 2, "stiffer": 2,
}


def syllables(text):
    words = textstat.remove_punctuation(text.lower()).split()
    return sum(HAND.get(w, textstat.syllable_count(w)) for w in words)

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, "..", "instruments")

WRITTEN = [
    "You can stop the tablets at any time.",
    "Regular exercise helps many people with knee pain. It can feel hard at first.",
    "Ask your nurse what this means for you and your family.",
    "The operation replaces the worn parts of your knee with metal and plastic parts.",
    "Most people go home from hospital after a few days and then do exercises every day.",
    "Some people get side effects such as dizziness, a dry cough or swollen ankles.",
    "Pharmacological antihypertensive interventions necessitate comprehensive longitudinal monitoring.",
    "Contraindications to arthroplasty include active infection and significant comorbidities affecting anaesthetic suitability.",
    "The physiotherapist will show you simple movements that strengthen the muscles around your knee.",
    "Over ten years, twelve out of every hundred people have a stroke. The others do not.",
    "If you choose to wait, we will check your blood pressure again in six months.",
    "Nobody can promise how well a treatment will work for one person.",
    "Think about what matters most to you before your appointment.",
    "Rehabilitation after joint replacement typically requires considerable commitment over several months.",
    "Medicines can ease the pain quickly, but they do not slow the changes in the joint.",
    "Your answers are private. We only use them to improve our service.",
    "Cardiovascular complications occasionally necessitate hospitalisation and intravenous medication.",
    "Talk to us if something is worrying you. We are here to help.",
]


def library_texts():
    out = []
    for name in sorted(os.listdir(LIB)):
        if not name.startswith("aid-"):
            continue
        d = json.load(open(os.path.join(LIB, name)))

        def walk(v):
            if isinstance(v, dict):
                if isinstance(v.get("en"), str):
                    out.append(v["en"])
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(d)
    return out


def fits(t):
    if "." in t.rstrip(".") and any(c.isdigit() for c in t):
        return False
    pieces = [p for p in __import__("re").split(r"[.!?]", t) if p.strip()]
    return all(len(p.split()) >= 3 for p in pieces) and len(t.split()) >= 5


def case(t):
    words, sents, syll = textstat.lexicon_count(t), textstat.sentence_count(t), syllables(t)
    return {"text": t, "words": words, "sentences": sents, "syllables": syll,
            "grade": round(0.39 * words / sents + 11.8 * syll / words - 15.59, 3),
            "textstat_syllables": textstat.syllable_count(t),
            "textstat_grade": textstat.flesch_kincaid_grade(t),
            "rule": "reading age: flesch-kincaid grade"}


if __name__ == "__main__":
    seen, texts = set(), []
    for t in WRITTEN + library_texts():
        if t not in seen and fits(t):
            seen.add(t)
            texts.append(t)
    cases = [dict(case(t), name=f"text {n + 1}") for n, t in enumerate(texts)]
    with open(os.path.join(HERE, "readability.json"), "w") as fh:
        json.dump(cases, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"readability.json: {len(cases)} texts")
