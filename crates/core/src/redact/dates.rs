//! Dates of birth: numeric and written dates, and the cues that make a date one of birth.

use super::*;

pub(super) const MONTHS: [&str; 34] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "ionawr",
    "chwefror",
    "mawrth",
    "ebrill",
    "mai",
    "mehefin",
    "gorffennaf",
    "awst",
    "medi",
    "hydref",
    "tachwedd",
    "rhagfyr",
    // Welsh months as mutations leave them after "o", "ym", "yng" and the like.
    "fawrth",
    "fai",
    "fehefin",
    "orffennaf",
    "ngorffennaf",
    "fedi",
    "dachwedd",
    "nhachwedd",
    "thachwedd",
    "ragfyr",
];

/// A month name or its 3- or 4-letter English abbreviation ("Sept") at `i`; returns its end.
pub(super) fn month_at(chars: &[(usize, char)], i: usize) -> Option<usize> {
    if !starts_word(chars, i) {
        return None;
    }
    let mut e = i;
    while e < chars.len() && chars[e].1.is_alphabetic() {
        e += 1;
    }
    // Month names are ASCII and 3–11 letters: anything else is not one. Compared in a stack
    // buffer, because this runs at every word of every comment (no allocation per word).
    let len = e - i;
    if !(3..=11).contains(&len) {
        return None;
    }
    let mut buf = [0u8; 11];
    for (b, c) in buf.iter_mut().zip(&chars[i..e]) {
        if !c.1.is_ascii_alphabetic() {
            return None;
        }
        *b = c.1.to_ascii_lowercase() as u8;
    }
    let word = &buf[..len];
    // The first letter first: most words share none with a month, and this is cheap.
    let ok = MONTHS.iter().enumerate().any(|(n, m)| {
        let m = m.as_bytes();
        m[0] == word[0]
            && (m == word
                || n < 12 && len <= 4 && m.starts_with(word) && (len == 3 || word == b"sept"))
    });
    let mut end = e;
    if ok && chars.get(e).is_some_and(|c| c.1 == '.') {
        end += 1;
    }
    ok.then_some(end)
}

/// Digits at `i` (1..=max of them, word-bounded on the left): (value, count, end).
pub(super) fn digits_at(
    chars: &[(usize, char)],
    i: usize,
    max: usize,
) -> Option<(u32, usize, usize)> {
    let mut v = 0u32;
    let mut n = 0;
    let mut e = i;
    while e < chars.len() && chars[e].1.is_ascii_digit() {
        if n == max {
            return None;
        }
        v = v * 10 + chars[e].1.to_digit(10)?;
        n += 1;
        e += 1;
    }
    (n > 0).then_some((v, n, e))
}

/// A day with an optional ordinal suffix: returns (day, end).
pub(super) fn day_at(chars: &[(usize, char)], i: usize) -> Option<(u32, usize)> {
    let (d, _, mut e) = digits_at(chars, i, 2)?;
    // English ordinals, then Welsh (1af, 2il/2ail, 3ydd, 5ed, 7fed, 11eg, 21ain).
    for suffix in [
        "st", "nd", "rd", "th", "af", "ail", "il", "ydd", "ed", "fed", "eg", "ain",
    ] {
        let n = suffix.chars().count();
        if e + n <= chars.len()
            && chars[e..e + n]
                .iter()
                .map(|c| c.1.to_ascii_lowercase())
                .eq(suffix.chars())
        {
            e += n;
            break;
        }
    }
    (1..=31).contains(&d).then_some((d, e))
}

/// A four-digit year, or a two-digit one (`54`, `'54`): returns its end and whether it was
/// two digits.
pub(super) fn year_at(chars: &[(usize, char)], i: usize) -> Option<(usize, bool)> {
    let quote = usize::from(chars.get(i).is_some_and(|c| c.1 == '\''));
    let (_, n, e) = digits_at(chars, i + quote, 4)?;
    ((n == 4 && quote == 0 || n == 2) && ends_word(chars, e)).then_some((e, n == 2))
}

pub(super) fn dates(chars: &[(usize, char)], found: &mut Vec<(usize, usize, RedactionKind)>) {
    for i in 0..chars.len() {
        if !starts_word(chars, i) {
            continue;
        }
        let date = numeric_date(chars, i)
            .map(|e| (e, false))
            .or_else(|| written_date(chars, i));
        if let Some((e, two_digit_year)) = date {
            let cue = birth_cue(chars, i);
            // A written date with a two-digit year counts only after a birth cue.
            if cue || !two_digit_year {
                let kind = if cue {
                    RedactionKind::DateOfBirth
                } else {
                    RedactionKind::Date
                };
                found.push((i, e, kind));
            }
        }
    }
}

/// `d/m/yy`, `dd-mm-yyyy`, `dd.mm.yyyy`, or ISO `yyyy-mm-dd`: one separator kind
/// throughout, in gaps (`12 / 03 / 1954`). Day first is the UK order; ISO is what forms and
/// exports produce.
pub(super) fn numeric_date(chars: &[(usize, char)], i: usize) -> Option<usize> {
    let (a, an, e) = digits_at(chars, i, 4)?;
    let (e, sep) = gap(chars, e, "/-.");
    sep?;
    let (m, _, e) = digits_at(chars, e, 2)?;
    let (e, sep2) = gap(chars, e, "/-.");
    if sep2 != sep {
        return None;
    }
    let (c, cn, e) = digits_at(chars, e, 4)?;
    let (d, ok) = if an == 4 {
        (c, cn <= 2) // ISO: the day is last
    } else {
        (a, an <= 2 && (cn == 2 || cn == 4))
    };
    (ok && (1..=31).contains(&d) && (1..=12).contains(&m) && ends_word(chars, e)).then_some(e)
}

/// `12 March 1980`, `12th of March, 1980`, `12-Mar-1980`, `March 12, 1980`, `12 o Fawrth
/// 1980`; the year may have two digits (returned as true).
pub(super) fn written_date(chars: &[(usize, char)], i: usize) -> Option<(usize, bool)> {
    let seps = "-/.";
    if let Some((_, e)) = day_at(chars, i) {
        let (mut e, _) = gap(chars, e, seps);
        for of in ["of ", "o "] {
            let n = of.len();
            if e + n <= chars.len()
                && chars[e..e + n]
                    .iter()
                    .map(|c| c.1.to_ascii_lowercase())
                    .eq(of.chars())
            {
                e = gap(chars, e + n, "").0;
            }
        }
        let e = month_at(chars, e)?;
        return year_at(chars, gap(chars, e, ",-/.").0);
    }
    let e = month_at(chars, i)?;
    let (_, e) = day_at(chars, gap(chars, e, seps).0)?;
    year_at(chars, gap(chars, e, ",").0)
}

/// "born", "birth", "dob", "d.o.b", Welsh "geni" (birth), "ganwyd" or "ganed" (was born) within 30
/// characters before a date: the cue that makes a date a date of birth.
///
/// Our own `[date of birth]` token is not a cue: redaction must find nothing new in its own
/// output (a date after an earlier token would otherwise become a date of birth on a second
/// pass). Characters of such a token are read as spaces.
pub(super) fn birth_cue(chars: &[(usize, char)], i: usize) -> bool {
    const TOKEN: &str = "[date of birth]";
    let from = i.saturating_sub(30);
    let len = TOKEN.len(); // ASCII: one char per byte
    let mut masked = vec![false; i - from];
    for s in i.saturating_sub(30 + len)..i {
        let is_token =
            s + len <= chars.len() && chars[s..s + len].iter().map(|c| c.1).eq(TOKEN.chars());
        if is_token {
            for k in s.max(from)..(s + len).min(i) {
                masked[k - from] = true;
            }
        }
    }
    let before: String = chars[from..i]
        .iter()
        .zip(&masked)
        .map(|(c, m)| if *m { ' ' } else { c.1 })
        .flat_map(char::to_lowercase)
        .collect();
    ["born", "birth", "dob", "d.o.b", "geni", "ganwyd", "ganed"]
        .iter()
        .any(|w| before.contains(w))
}
