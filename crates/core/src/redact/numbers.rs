//! NHS numbers and phone numbers: the digit runs the redactor finds.

use super::*;

/// Modulus 11: weights 10…2 on the first nine digits; 11 − (sum mod 11) is the check digit,
/// 11 means 0 and 10 means the number is invalid. Checking it means ten-digit references,
/// order numbers and the like are not mistaken for NHS numbers.
pub fn nhs_number_valid(digits: &[u8]) -> bool {
    if digits.len() != 10 || digits.iter().any(|d| *d > 9) {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * (10 - i as u32))
        .sum();
    match 11 - sum % 11 {
        11 => digits[9] == 0,
        10 => false,
        check => u32::from(digits[9]) == check,
    }
}

/// A gap at `i`: up to three spaces, around at most one of `seps`. Returns its end and the
/// separator, if any.
pub(super) fn gap(chars: &[(usize, char)], i: usize, seps: &str) -> (usize, Option<char>) {
    let spaces = |from: usize| {
        let mut e = from;
        while e < chars.len() && e < from + 3 && chars[e].1 == ' ' {
            e += 1;
        }
        e
    };
    let e = spaces(i);
    match chars.get(e) {
        Some(&(_, c)) if seps.contains(c) => (spaces(e + 1), Some(c)),
        _ => (e, None),
    }
}

/// NHS numbers and phone numbers: runs of digits with gaps (see the module docs) or brackets
/// between them, optionally starting `+`. Every prefix that ends on a digit is tried, longest
/// first, so "call 01234 567890 2 times" finds the phone number and leaves the "2".
pub(super) fn numbers(chars: &[(usize, char)], found: &mut Vec<(usize, usize, RedactionKind)>) {
    let digit = |i: usize| chars.get(i).is_some_and(|c| c.1.is_ascii_digit());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let opens = c.is_ascii_digit() || ((c == '+' || c == '(') && digit(i + 1));
        // "NHS9434765919": the one word a number may touch.
        let after_nhs = i >= 3
            && starts_word(chars, i - 3)
            && chars[i - 3..i]
                .iter()
                .map(|c| c.1.to_ascii_lowercase())
                .eq("nhs".chars());
        if !opens
            || !(starts_word(chars, i) || after_nhs && digit(i))
            || (i > 0 && (chars[i - 1].1 == '+' || digit(i - 1)))
        {
            i += 1;
            continue;
        }
        // Walk the run, remembering each position just past a digit.
        let mut digit_ends: Vec<(usize, usize)> = Vec::new(); // (end, digits so far)
        let mut digits = Vec::new();
        let mut group = 0; // digits since the last gap or bracket
        let mut j = i;
        let mut last_gap = false; // a gap just seen: never two in a row
        while j < chars.len() && digits.len() < 16 {
            let d = chars[j].1;
            if d.is_ascii_digit() {
                digits.push(d as u8 - b'0');
                digit_ends.push((j + 1, digits.len()));
                group += 1;
                last_gap = false;
                j += 1;
                continue;
            }
            if d == '(' && digit(j + 1) || d == ')' && digit(j - 1) || d == '+' && j == i {
                last_gap = false;
                group = 0;
                j += 1;
                continue;
            }
            let (e, sep) = gap(chars, j, "-./");
            // A "." or "/" joins only groups of three digits or more, never a date's parts.
            let short = |k: usize| (k..k + 3).any(|k| !digit(k));
            if e == j || last_gap || matches!(sep, Some('.' | '/')) && (group < 3 || short(e)) {
                break;
            }
            last_gap = true;
            group = 0;
            j = e;
        }
        let plus = c == '+';
        let mut matched = None;
        for (end, count) in digit_ends.iter().rev() {
            let ds = &digits[..*count];
            if !ends_word(chars, *end) {
                continue;
            }
            if !plus && c != '(' && ds.len() == 10 && nhs_number_valid(ds) {
                matched = Some((*end, RedactionKind::NhsNumber));
                break;
            }
            if !after_nhs && uk_phone(ds, plus) {
                matched = Some((*end, RedactionKind::PhoneNumber));
                break;
            }
        }
        match matched {
            Some((end, kind)) => {
                found.push((i, end, kind));
                i = end;
            }
            // Digits inside the run cannot start a number (a digit or "+" is before them),
            // but after a failed "(" they may: "(943 476 5919)".
            None => i += 1,
        }
    }
}

/// UK numbers: `0`, `+44` or `0044` (then an optional `0`), then the national number, whose
/// length its first digit decides (Ofcom's numbering plan; see the module docs).
pub(super) fn uk_phone(ds: &[u8], plus: bool) -> bool {
    let national: &[u8] = if plus {
        match ds.strip_prefix(&[4, 4]) {
            Some(rest) => rest.strip_prefix(&[0]).unwrap_or(rest),
            None => return false,
        }
    } else if let Some(rest) = ds.strip_prefix(&[0, 0, 4, 4]) {
        rest.strip_prefix(&[0]).unwrap_or(rest)
    } else if let Some(rest) = ds.strip_prefix(&[0]) {
        rest
    } else {
        return false;
    };
    let n = national.len();
    match national.first() {
        Some(1 | 8) => n == 9 || n == 10,
        Some(2 | 3 | 5 | 7 | 9) => n == 10,
        _ => false,
    }
}
