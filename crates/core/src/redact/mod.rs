//! Redaction of personal data in free text, before storage and before the patient sends it.
//!
//! Hand-written scanners rather than a regex engine: the widget carries this code in its wasm
//! bundle, and a regex crate would cost more bytes than the rest of the core together. Each
//! detector proposes spans; overlaps are resolved earliest-then-longest; each span becomes a
//! labelled token such as `[NHS number]`. Tokens contain nothing a detector matches, so
//! redaction is idempotent.
//!
//! # The rules
//!
//! **Normalisation first.** Detectors read a normalised copy of the text, but every span is an
//! offset into the original (bytes and UTF-16 units), and a token replaces the original
//! characters, never the normalised ones:
//! - digits of other scripts become `0`–`9`: full-width, Arabic-Indic, Extended Arabic-Indic
//!   (Urdu, Persian), Devanagari, Bengali, Gurmukhi, Gujarati, Tamil, and the mathematical
//!   bold, double-struck, sans-serif, sans-serif bold and monospace digits (other scripts'
//!   digits, Thai for one, are left as they are);
//! - full-width ASCII (U+FF01–U+FF5E) becomes ASCII, so `ＳＷ１Ａ　１ＡＡ` is a postcode;
//! - no-break, narrow no-break, figure, thin, hair, em/en and ideographic spaces (U+00A0,
//!   U+2000–U+200A, U+202F, U+205F, U+3000) become a space;
//! - hyphen, non-breaking hyphen, figure dash, en and em dash, minus and small hyphen (U+2010–
//!   U+2014, U+2212, U+FE63) become `-`; curly single quotes become `'`;
//! - zero-width space, non-joiner, joiner, word joiner, BOM and soft hyphen (U+200B–U+200D,
//!   U+2060, U+FEFF, U+00AD) are skipped, as if absent (they stay inside a span they fall in).
//!
//! **A gap** between the parts of a number, date or postcode is up to three spaces, around at
//! most one separator character (which separators count depends on the detector).
//!
//! **NHS numbers**: 10 digits whose Modulus 11 check digit is right, in groups with gaps of
//! spaces, `-`, `.` or `/` (a `.` or `/` only between groups of three digits or more, so dates such as
//! `01/02/2023` never join into one), not touching a letter or digit, except straight after
//! the word `NHS` (`NHS9434765919`).
//!
//! **UK phone numbers** (Ofcom's numbering plan), written with the same gaps, brackets around
//! a group and `+` first: `0` then the national number, or `+44`/`0044`, an optional `0` or
//! `(0)`, then it. The national number's length depends on its first digit: `7` (mobiles) 10 digits; `1`
//! (geographic) 9 or 10; `2` (geographic) 10; `3` (non-geographic) 10; `5` 10; `8` (freephone,
//! special) 9 or 10; `9` (premium) 10. `4`, `6` and `0` begin no UK number. So `0770090012` is
//! too short for a mobile and is kept, as is `999`.
//!
//! **E-mail addresses**: a local part of letters and digits (Latin, accented Latin, Greek and
//! Cyrillic: U+0000–U+052F and U+1E00–U+1EFF), combining accents (U+0300–U+036F) and
//! `._%+-'`; `@`; a domain of ASCII letters, digits, `.` and `-` (internationalised domains
//! travel as punycode) ending in an alphabetic top-level domain of two letters or more.
//!
//! **UK postcodes**: outward `A9`, `A99`, `AA9`, `AA99`, `A9A`, `AA9A`; a gap of spaces only (or
//! none); inward `9AA` (inward letters never C, I, K, M, O or V); any case.
//!
//! **Dates** (day, month and year): day-first `d/m/yy`, `dd-mm-yyyy`, `dd.mm.yyyy` or ISO
//! `yyyy-mm-dd`, one separator kind throughout, gaps allowed (`12 / 03 / 1954`); or written,
//! `12 March 1954`, `12-Mar-1954`, `12th of March, 1954`, `March 12, 1954`, Welsh `12 o Fawrth
//! 1954`. Month names are English (and 3-letter abbreviations, and `Sept`) and Welsh, with the
//! mutated forms a date produces (`o Fawrth`, `ym Mehefin`, `yng Ngorffennaf`): Fawrth, Fai,
//! Fehefin, Orffennaf, Ngorffennaf, Fedi, Dachwedd, Nhachwedd, Thachwedd, Ragfyr (Ionawr,
//! Chwefror, Ebrill, Awst and Hydref begin with sounds these mutations leave). A written date
//! with a two-digit year (`12 Mar 54`, `12th March '54`) counts only after a birth cue: it is
//! too easily something else. A date is a date of birth when "born", "birth", "dob", "d.o.b",
//! "geni", "ganwyd" or "ganed" is within 30 characters before it; otherwise it is a `[date]`.

mod dates;
mod numbers;

use dates::*;
pub use numbers::*;

use serde::{Deserialize, Serialize};

/// What was found: the widget names it to the patient ("we removed a phone number").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionKind {
    /// 10 digits with a valid Modulus 11 check digit.
    NhsNumber,
    /// A UK telephone number.
    PhoneNumber,
    /// An e-mail address.
    EmailAddress,
    /// A UK postcode.
    Postcode,
    /// A full date near words such as "born", "DOB", "birthday" or "geni".
    DateOfBirth,
    /// Any other full date (day, month and year): it may still be a date of birth.
    Date,
}

impl RedactionKind {
    /// The token that replaces the span: labelled, so staff reading feedback know something
    /// was there, and bracketed, so no detector matches it again (idempotence).
    pub fn token(self) -> &'static str {
        match self {
            RedactionKind::NhsNumber => "[NHS number]",
            RedactionKind::PhoneNumber => "[phone number]",
            RedactionKind::EmailAddress => "[email address]",
            RedactionKind::Postcode => "[postcode]",
            RedactionKind::DateOfBirth => "[date of birth]",
            RedactionKind::Date => "[date]",
        }
    }
}

/// A replaced span of the original text, so the widget can highlight exactly what will not
/// be stored before the patient sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactedSpan {
    /// What it was.
    pub kind: RedactionKind,
    /// Byte offset in the original text.
    pub start: usize,
    /// Byte offset just past the span.
    pub end: usize,
    /// The same offsets in UTF-16 code units: JavaScript strings (and the DOM's selection
    /// ranges) index in these, not in bytes.
    pub start_utf16: usize,
    /// See `start_utf16`.
    pub end_utf16: usize,
}

/// Redacted text and what was replaced (the preview needs both).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    /// The text with each span replaced by its token.
    pub text: String,
    /// The spans, in order.
    pub spans: Vec<RedactedSpan>,
}

/// A response's answers as they may be stored: the free text of the instrument's free-text
/// items redacted, everything else as given. The one rule for which answers are redacted, used
/// by the server before storage and by the widget to show the patient what will be stored.
pub fn redact_answer(
    instrument: &crate::Instrument,
    item_id: &str,
    answer: &crate::Answer,
) -> crate::Answer {
    match answer {
        crate::Answer::Text(t)
            if instrument
                .item(item_id)
                .is_some_and(|i| i.kind == crate::ItemKind::FreeText) =>
        {
            crate::Answer::Text(redact(t).text)
        }
        other => other.clone(),
    }
}

/// Redact `input`: every NHS number, UK phone number, e-mail address, UK postcode and full
/// date is replaced by its token. Idempotent (redacting the result changes nothing), so the
/// widget's preview and the server's stored text agree whoever redacts first.
///
/// Why a loop: a detector needs a boundary before what it finds, and a token can create one.
/// In "9434765919+447700900123" the phone number touches the NHS number, so it is not found
/// until the NHS number has become `[NHS number]` (the fuzzer found this, and similar cases
/// with dates). So the result is scanned again until nothing new is found, and each new span
/// is mapped back onto the original text: one call gives what any number of calls would.
pub fn redact(input: &str) -> Redacted {
    let mut r = redact_once(input);
    // Each round replaces at least one more run of the original text, and tokens hold nothing
    // a detector matches, so this ends; the bound is a guard, never reached in practice.
    for _ in 0..16 {
        let again = redact_once(&r.text);
        if again.spans.is_empty() {
            break;
        }
        r = compose(input, &r, again);
    }
    r
}

/// Spans found in an already-redacted text (`second`, over `first.text`), carried back onto
/// the original: a new span that takes in a token takes in that token's original text.
fn compose(input: &str, first: &Redacted, second: Redacted) -> Redacted {
    // first.text is the original with each first span replaced by its token; walk it as
    // segments to map a byte offset in it back to the original.
    let to_original = |p: usize, is_end: bool| -> usize {
        let mut shift: isize = 0; // original − redacted, up to here
        for sp in &first.spans {
            let t_start = (sp.start as isize - shift) as usize;
            let t_end = t_start + sp.kind.token().len();
            if p <= t_start {
                break;
            }
            if p < t_end {
                return if is_end { sp.end } else { sp.start };
            }
            shift += (sp.end - sp.start) as isize - sp.kind.token().len() as isize;
        }
        (p as isize + shift) as usize
    };
    let utf16 = |b: usize| input[..b].encode_utf16().count();
    let mut spans: Vec<RedactedSpan> = Vec::new();
    // Both lists are in text order and the mapping keeps order, so a merge (not a sort: every
    // sort instantiated here costs the widget's bundle kilobytes) gives the spans in order.
    let added: Vec<RedactedSpan> = second
        .spans
        .iter()
        .map(|sp| {
            let (start, end) = (to_original(sp.start, false), to_original(sp.end, true));
            RedactedSpan {
                kind: sp.kind,
                start,
                end,
                start_utf16: utf16(start),
                end_utf16: utf16(end),
            }
        })
        .collect();
    let kept: Vec<&RedactedSpan> = first
        .spans
        .iter()
        .filter(|sp| !added.iter().any(|a| a.start <= sp.start && sp.end <= a.end))
        .collect();
    let mut added = added.into_iter().peekable();
    for sp in kept {
        while let Some(a) = added.next_if(|a| a.start < sp.start) {
            spans.push(a);
        }
        spans.push(sp.clone());
    }
    spans.extend(added);
    Redacted {
        text: second.text,
        spans,
    }
}

/// Zero points of the digit blocks read as `0`–`9` (each block is ten code points).
const DIGIT_ZEROS: [u32; 13] = [
    0x660, 0x6F0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xBE6, 0xFF10, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC,
    0x1D7F6,
];

/// The character detectors see for `c`, or `None` for one they skip (see the module docs).
fn normalise(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(c);
    }
    let u = c as u32;
    if let Some(z) = DIGIT_ZEROS.iter().find(|&&z| (z..z + 10).contains(&u)) {
        return char::from_digit(u - z, 10);
    }
    Some(match u {
        0xFF01..=0xFF5E => char::from_u32(u - 0xFEE0)?,
        0xA0 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => ' ',
        0x2010..=0x2014 | 0x2212 | 0xFE63 => '-',
        0x2018 | 0x2019 => '\'',
        0x200B..=0x200D | 0x2060 | 0xFEFF | 0xAD => return None,
        _ => c,
    })
}

/// One pass of every detector over `input`.
fn redact_once(input: &str) -> Redacted {
    // Normalised characters, each with its byte offset in `input`.
    let chars: Vec<(usize, char)> = input
        .char_indices()
        .filter_map(|(b, c)| Some((b, normalise(c)?)))
        .collect();
    let mut found: Vec<(usize, usize, RedactionKind)> = Vec::new(); // char index range
    emails(&chars, &mut found);
    numbers(&chars, &mut found);
    dates(&chars, &mut found);
    postcodes(&chars, &mut found);
    // In text order, the longer of two spans that start together first, ties in detector
    // order: an insertion sort (stable; a handful of spans in any real comment), because each
    // library sort instantiated here costs the widget's bundle kilobytes.
    for n in 1..found.len() {
        let mut k = n;
        while k > 0
            && (found[k - 1].0, std::cmp::Reverse(found[k - 1].1))
                > (found[k].0, std::cmp::Reverse(found[k].1))
        {
            found.swap(k - 1, k);
            k -= 1;
        }
    }

    let start_byte = |ci: usize| chars.get(ci).map_or(input.len(), |c| c.0);
    // Just past the last character of a span (a skipped character after it is not in it).
    let end_byte = |ci: usize| {
        let b = chars[ci - 1].0;
        b + input[b..].chars().next().map_or(0, char::len_utf8)
    };
    let mut out = String::with_capacity(input.len());
    let mut spans = Vec::new();
    let mut at = 0; // char index
    let mut copied = 0; // byte offset in `input` up to which `out` is written
    let mut utf16 = 0; // the same offset in UTF-16 units
    for (mut s, e, kind) in found {
        if s < at {
            // Overlaps a span already taken. An e-mail's local part may have reached back
            // into it ("07700 900123-jo@example.org"): keep the address, starting after the
            // taken span, exactly as a second pass over the redacted text would find it.
            // Anything else is dropped. This is what keeps redaction idempotent.
            let at_sign = chars[s..e].iter().position(|c| c.1 == '@').map(|p| s + p);
            match (kind, at_sign) {
                (RedactionKind::EmailAddress, Some(k)) if k > at => {
                    s = at;
                    while s < k && !chars[s].1.is_alphanumeric() {
                        s += 1;
                    }
                    if s == k {
                        continue;
                    }
                }
                _ => continue,
            }
        }
        let (b_start, b_end) = (start_byte(s), end_byte(e));
        let before = &input[copied..b_start];
        out.push_str(before);
        out.push_str(kind.token());
        let start_utf16 = utf16 + before.encode_utf16().count();
        let end_utf16 = start_utf16 + input[b_start..b_end].encode_utf16().count();
        (copied, utf16) = (b_end, end_utf16);
        spans.push(RedactedSpan {
            kind,
            start: b_start,
            end: b_end,
            start_utf16,
            end_utf16,
        });
        at = e;
    }
    out.push_str(&input[copied..]);
    Redacted { text: out, spans }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Does a token start at `i` (not inside a word or number)?
fn starts_word(chars: &[(usize, char)], i: usize) -> bool {
    i == 0 || !is_word(chars[i - 1].1)
}

/// Does a token end before `i`?
fn ends_word(chars: &[(usize, char)], i: usize) -> bool {
    i >= chars.len() || !is_word(chars[i].1)
}

fn emails(chars: &[(usize, char)], found: &mut Vec<(usize, usize, RedactionKind)>) {
    // Latin (accented too: "zoë", "renée", Welsh "ŵ", "ẁ"), Greek and Cyrillic letters and
    // combining accents (text typed on some systems arrives decomposed: "rene\u{301}e"). Not
    // every script: in Chinese, Japanese or Thai, written without spaces, the words before
    // an address would go with it.
    let local = |c: char| {
        c.is_alphanumeric() && (c < '\u{530}' || ('\u{1e00}'..='\u{1eff}').contains(&c))
            || "._%+-'".contains(c)
            || ('\u{300}'..='\u{36f}').contains(&c)
    };
    let domain = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    for (k, &(_, c)) in chars.iter().enumerate() {
        if c != '@' {
            continue;
        }
        let mut s = k;
        while s > 0 && local(chars[s - 1].1) {
            s -= 1;
        }
        while s < k && !chars[s].1.is_alphanumeric() {
            s += 1;
        }
        // A domain is at most 253 characters (RFC 1035): the cap keeps this linear.
        let mut run = k + 1;
        while run < chars.len() && run <= k + 253 && domain(chars[run].1) {
            run += 1;
        }
        // The longest domain within the run that ends a label (next character not a letter
        // or digit) with an alphabetic top-level domain: "jo@example.org-943 476 5919" is the
        // address "jo@example.org", then a number, on the first pass as on a second.
        let valid = |e: usize| {
            let dom = &chars[k + 1..e];
            let last_dot = dom.iter().rposition(|c| c.1 == '.');
            let tld = last_dot.map_or(&dom[..0], |d| &dom[d + 1..]);
            chars[e - 1].1.is_ascii_alphanumeric()
                && !chars.get(e).is_some_and(|c| c.1.is_ascii_alphanumeric())
                && dom[0].1.is_ascii_alphanumeric()
                && tld.len() >= 2
                && tld.iter().all(|c| c.1.is_ascii_alphabetic())
        };
        let end = (k + 2..=run).rev().find(|&e| valid(e));
        if let (true, Some(e)) = (s < k, end) {
            found.push((s, e, RedactionKind::EmailAddress));
        }
    }
}

/// UK postcodes: outward `A9`, `A99`, `AA9`, `AA99`, `A9A`, `AA9A`; optional space; inward
/// `9AA` (inward letters never C, I, K, M, O or V).
fn postcodes(chars: &[(usize, char)], found: &mut Vec<(usize, usize, RedactionKind)>) {
    let alpha = |i: usize| chars.get(i).is_some_and(|c| c.1.is_ascii_alphabetic());
    let digit = |i: usize| chars.get(i).is_some_and(|c| c.1.is_ascii_digit());
    let inward_letter = |i: usize| {
        chars
            .get(i)
            .is_some_and(|c| c.1.is_ascii_alphabetic() && !"CIKMOVcikmov".contains(c.1))
    };
    for i in 0..chars.len() {
        if !starts_word(chars, i) || !alpha(i) {
            continue;
        }
        let mut outward_ends = Vec::new();
        let letters = if alpha(i + 1) { 2 } else { 1 };
        let d = i + letters;
        if digit(d) {
            outward_ends.push(d + 1);
            if digit(d + 1) {
                outward_ends.push(d + 2);
            }
            if alpha(d + 1) {
                outward_ends.push(d + 2);
            }
        }
        for o in outward_ends {
            let s = gap(chars, o, "").0;
            if digit(s) && inward_letter(s + 1) && inward_letter(s + 2) && ends_word(chars, s + 3) {
                found.push((i, s + 3, RedactionKind::Postcode));
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "library")]
    #[test]
    fn only_free_text_items_are_redacted() {
        use crate::Answer;
        let fft = crate::library::get("fft").unwrap();
        let text = Answer::Text("Ring 07700 900123".into());
        assert_eq!(
            redact_answer(&fft, "why", &text),
            Answer::Text("Ring [phone number]".into())
        );
        // An option id is ours, not a patient's words; an unknown item is left to validation.
        assert_eq!(redact_answer(&fft, "fft", &text), text);
        assert_eq!(redact_answer(&fft, "no-such-item", &text), text);
        assert_eq!(
            redact_answer(&fft, "why", &Answer::Number(7)),
            Answer::Number(7)
        );
    }

    #[test]
    fn finds_each_kind() {
        let r = redact("NHS 943 476 5919, call 07700 900123 or a@b.co.uk, SW1A 1AA, born 3/4/1980");
        assert_eq!(
            r.text,
            "NHS [NHS number], call [phone number] or [email address], [postcode], born [date of birth]"
        );
    }

    #[test]
    fn invalid_check_digit_is_left() {
        assert_eq!(redact("ref 9434765918").text, "ref 9434765918");
    }

    /// Inputs the fuzzer found (fuzz/regressions/redaction): numbers and dates written
    /// against each other. One call must find everything a second call would.
    #[test]
    fn numbers_touching_numbers_are_all_found_in_one_pass() {
        let r = redact("9434765919+447700900123");
        assert_eq!(r.text, "[NHS number][phone number]");
        assert_eq!(r.spans.len(), 2);
        assert_eq!((r.spans[1].start, r.spans[1].end), (10, 23));
        assert_eq!((r.spans[1].start_utf16, r.spans[1].end_utf16), (10, 23));
        for input in [
            "9434765919+447700900123",
            "+447700900122+44770090012",
            "een 20een 2024-11-02 20 924-11-02 20 9",
            "café 9434765919+447700900123 ☎",
        ] {
            let once = redact(input);
            assert_eq!(redact(&once.text).text, once.text, "{input}");
            // Spans still describe the original text and rebuild the output exactly.
            let mut rebuilt = String::new();
            let mut at = 0;
            for sp in &once.spans {
                rebuilt.push_str(&input[at..sp.start]);
                rebuilt.push_str(sp.kind.token());
                assert_eq!(
                    input[..sp.start].encode_utf16().count(),
                    sp.start_utf16,
                    "{input}"
                );
                at = sp.end;
            }
            rebuilt.push_str(&input[at..]);
            assert_eq!(rebuilt, once.text, "{input}");
        }
    }
}
