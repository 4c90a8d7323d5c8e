//! Reading age of English text: the Flesch–Kincaid grade level, per string and per sentence,
//! with a syllable counter written for it (feature `authoring`: the authoring check and the
//! CLI use it; the widget does not, so it is not in the bundle).
//!
//! grade = 0.39 × (words ÷ sentences) + 11.8 × (syllables ÷ words) − 15.59
//!
//! IPDAS and NICE ask for plain language at about a reading age of 9 to 11, which is US grade
//! 8 or below ([`TARGET_GRADE`]; reading age ≈ grade + 5).
//!
//! Limits, stated so nobody reads more into the figure than it holds:
//! - **English only.** The formula and the syllable rules are for English; Welsh texts get no
//!   figure and need a fluent reader's review.
//! - **Syllables are estimated** by spelling rules (vowel groups, silent final *e*, *-ed* and
//!   *-es* endings, *-le*, vowel pairs that are two syllables), not looked up in a
//!   pronouncing dictionary: a word can be off by one (compounds such as "lifestyle", names,
//!   abbreviations). [`crate::readability`]'s vectors compare it with an independent counter.
//! - **Numbers** count as one-syllable words ("100" is short to read, though long to say).
//! - **Sentences** end at `.`, `!` or `?` followed by a space or the end, and at a line
//!   break; "e.g. this" therefore ends a sentence after "e.g.". A string without end
//!   punctuation is one sentence.
//! - **Short sentences are not graded** (fewer than [`MIN_WORDS`] words): the formula is not
//!   meaningful for labels such as "Knee replacement surgery", whose three long words would
//!   score as hard as a legal clause.
//! - It measures length, not sense: a short sentence of plain words can still be unclear. It
//!   is a prompt for the author, never a sign-off.

use serde::Serialize;

/// The grade a sentence should not exceed (reading age about 13; IPDAS/NICE: grade 8 or below).
pub const TARGET_GRADE: f64 = 8.0;

/// Sentences with fewer words than this are not graded (see the module docs).
pub const MIN_WORDS: u32 = 5;

/// Counts behind a grade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Words (tokens with a letter or digit in them).
    pub words: u32,
    /// Sentences.
    pub sentences: u32,
    /// Estimated syllables.
    pub syllables: u32,
}

impl Counts {
    /// The Flesch–Kincaid grade, or `None` for text without words.
    pub fn grade(&self) -> Option<f64> {
        if self.words == 0 {
            return None;
        }
        let (w, s, y) = (
            f64::from(self.words),
            f64::from(self.sentences.max(1)),
            f64::from(self.syllables),
        );
        Some(0.39 * (w / s) + 11.8 * (y / w) - 15.59)
    }
}

/// One sentence of a string, with where it is (byte offsets) and its figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sentence {
    /// The sentence as written, trimmed.
    pub text: String,
    /// Byte offset of its start in the string.
    pub start: usize,
    /// Its counts (one sentence).
    pub counts: Counts,
    /// Its grade (`None` when it has fewer than [`MIN_WORDS`] words).
    pub grade: Option<f64>,
}

/// Estimated syllables in one English word (at least 1 for a word with a letter or digit,
/// 0 for a token without either).
pub fn syllables(word: &str) -> u32 {
    let w: Vec<u8> = word
        .bytes()
        .filter(u8::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if w.is_empty() {
        // A number (one syllable, see the module docs), or letters outside ASCII.
        return u32::from(word.chars().any(char::is_alphanumeric));
    }
    if w.len() <= 3 {
        return 1;
    }
    let n = w.len();
    // 'y' is a vowel except at the start; 'u' after 'q' is part of the consonant.
    let vowel = |i: usize| -> bool {
        match w[i] {
            b'a' | b'e' | b'i' | b'o' => true,
            b'u' => !(i > 0 && w[i - 1] == b'q'),
            b'y' => i > 0,
            _ => false,
        }
    };
    let mut count: i32 = 0;
    let mut i = 0;
    while i < n {
        if vowel(i) {
            let start = i;
            while i < n && vowel(i) {
                i += 1;
            }
            count += 1;
            // Vowel pairs said as two syllables: "medial", "radio", "usual", "create", "being".
            let group = &w[start..i];
            if group.len() >= 2 {
                let pair = [group[0], group[1]];
                let before = &w[..start];
                let after = &w[i..];
                // "-tion", "-sion", "-cial", "-cious", "-gion": one syllable.
                let soft = matches!(before.last(), Some(b't' | b's' | b'c' | b'x' | b'g'))
                    && matches!(after.first(), Some(b'n' | b'l' | b'u' | b's'));
                let split = match &pair {
                    b"ia" | b"io" => !soft,
                    b"ua" | b"uo" => !before.ends_with(b"g"),
                    b"ea" => after.starts_with(b"te") && before.ends_with(b"r"),
                    b"ie" => {
                        after.starts_with(b"t")
                            || (after.starts_with(b"n") && !after.starts_with(b"nd"))
                    }
                    b"ei" | b"oi" => after == b"ng",
                    b"yi" => true,
                    // "video", "osteoarthritis" (three vowels said apart); not "people".
                    b"eo" => after.is_empty() || group.len() > 2,
                    _ => false,
                };
                if split {
                    count += 1 + i32::from(group.starts_with(b"eoa"));
                }
            }
        } else {
            i += 1;
        }
    }
    let consonant = |c: u8| !matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
    // Silent endings: "make" (not "table"), "jumped" (not "wanted", "hundred"), "makes"
    // (not "boxes", "changes", "ankles").
    let (last, before) = (w[n - 3], w[n - 4]);
    let silent = if w[n - 1] == b'e' {
        consonant(w[n - 2]) && !(w[n - 2] == b'l' && consonant(last))
    } else if w.ends_with(b"ed") {
        consonant(last) && !matches!(last, b't' | b'd') && !(last == b'r' && consonant(before))
    } else if w.ends_with(b"es") {
        let sounded = matches!(last, b's' | b'x' | b'z' | b'c' | b'g')
            || w.ends_with(b"hes")
            || (last == b'l' && consonant(before));
        consonant(last) && !sounded
    } else {
        false
    };
    if silent {
        count -= 1;
    }
    // "every", "everyone": said "evry".
    if w.starts_with(b"every") {
        count -= 1;
    }
    // A silent e before a suffix: "safely", "movement", "something", "lifestyle".
    for k in 2..n.saturating_sub(2) {
        if w[k] == b'e' && consonant(w[k - 1]) && !consonant(w[k - 2]) {
            let rest = &w[k + 1..];
            if SUFFIXES.iter().any(|s| rest == s.as_bytes()) {
                count -= 1;
            }
        }
    }
    count.max(1) as u32
}

/// Suffixes after which a word's e is silent (see [`syllables`]).
const SUFFIXES: [&str; 14] = [
    "ly", "ment", "ments", "ful", "ness", "less", "thing", "things", "style", "time", "times",
    "where", "side", "work",
];

fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

/// Split into sentences (see the module docs for where one ends).
pub fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let push = |from: usize, to: usize, out: &mut Vec<Sentence>| {
        let raw = &text[from..to];
        let t = raw.trim();
        if t.is_empty() {
            return;
        }
        let lead = raw.len() - raw.trim_start().len();
        let mut c = Counts {
            sentences: 1,
            ..Counts::default()
        };
        for token in t.split_whitespace().filter(|t| is_word(t)) {
            c.words += 1;
            c.syllables += syllables(token);
        }
        if c.words == 0 {
            return;
        }
        out.push(Sentence {
            text: t.to_string(),
            start: from + lead,
            counts: c,
            grade: if c.words >= MIN_WORDS {
                c.grade()
            } else {
                None
            },
        });
    };
    while i < b.len() {
        let end_mark = matches!(b[i], b'.' | b'!' | b'?')
            && (i + 1 == b.len() || b[i + 1].is_ascii_whitespace());
        if end_mark {
            push(start, i + 1, &mut out);
            start = i + 1;
        } else if b[i] == b'\n' {
            push(start, i, &mut out);
            start = i + 1;
        }
        i += 1;
    }
    push(start, b.len(), &mut out);
    out
}

/// The reading figures of a whole string.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reading {
    /// Counts over the string.
    pub counts: Counts,
    /// Its grade (`None` without words).
    pub grade: Option<f64>,
    /// Its sentences.
    pub sentences: Vec<Sentence>,
}

impl Reading {
    /// The sentences graded above [`TARGET_GRADE`].
    pub fn above_target(&self) -> impl Iterator<Item = &Sentence> {
        self.sentences
            .iter()
            .filter(|s| s.grade.is_some_and(|g| g > TARGET_GRADE))
    }
}

/// Reading figures for one English string.
pub fn assess(text: &str) -> Reading {
    let sentences = sentences(text);
    let mut counts = Counts::default();
    for s in &sentences {
        counts.words += s.counts.words;
        counts.syllables += s.counts.syllables;
        counts.sentences += 1;
    }
    Reading {
        counts,
        grade: counts.grade(),
        sentences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_of_common_words() {
        for (w, n) in [
            ("the", 1),
            ("make", 1),
            ("table", 2),
            ("people", 2),
            ("jumped", 1),
            ("wanted", 2),
            ("makes", 1),
            ("changes", 2),
            ("boxes", 2),
            ("physiotherapist", 6),
            ("usual", 3),
            ("quick", 1),
            ("operation", 4),
            ("medicines", 3),
            ("safely", 2),
            ("ankles", 2),
            ("hundred", 2),
            ("offered", 2),
            ("movements", 2),
            ("replacement", 3),
            ("agreement", 3),
            ("lifestyle", 2),
            ("something", 2),
            ("worrying", 3),
            ("completely", 3),
            ("every", 2),
            ("video", 3),
            ("osteoarthritis", 6),
            ("various", 3),
            ("precious", 2),
            ("doing", 2),
            ("treat", 1),
            ("create", 2),
            ("being", 2),
            ("point", 1),
            ("rhythm", 1),
            ("12", 1),
            ("—", 0),
        ] {
            assert_eq!(syllables(w), n, "{w}");
        }
    }

    #[test]
    fn sentences_end_at_marks_followed_by_space_and_short_ones_are_not_graded() {
        let r = assess("Take 2.5 mg each day. Stop!\nAsk your nurse what this means for you");
        let texts: Vec<&str> = r.sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Take 2.5 mg each day.",
                "Stop!",
                "Ask your nurse what this means for you"
            ]
        );
        assert_eq!(r.sentences[1].grade, None);
        assert_eq!(r.sentences[2].start, 28);
        assert_eq!(r.counts.sentences, 3);
        assert!(assess("").grade.is_none());
        let hard = assess(
            "Pharmacological antihypertensive interventions necessitate comprehensive longitudinal monitoring.",
        );
        assert_eq!(hard.above_target().count(), 1);
        let easy = assess("You can stop the tablets at any time.");
        assert_eq!(easy.above_target().count(), 0);
    }
}
