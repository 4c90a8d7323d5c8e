//! Checks the core's own tests and its fuzz targets share (feature `test-support`, which the
//! widget's bundle never turns on, so it costs the bundle nothing): one statement of what a
//! redaction must satisfy, asserted alike on a fuzz input and on a committed regression.

use crate::redact::redact;

/// Redaction's invariants for `input`: every span lies in order, within the text and on
/// character boundaries, with UTF-16 offsets that match its byte offsets; the text is the
/// original with each span replaced by its token; and redacting the text again changes
/// nothing. The first one broken, named by `name`, is the error.
pub fn redaction_invariants(name: &str, input: &str) -> Result<(), String> {
    let out = redact(input);
    let mut rebuilt = String::new();
    let mut at = 0;
    for s in &out.spans {
        if !(at <= s.start && s.start < s.end && s.end <= input.len()) {
            return Err(format!("{name}: span {s:?} out of order or bounds"));
        }
        if !(input.is_char_boundary(s.start) && input.is_char_boundary(s.end)) {
            return Err(format!("{name}: span {s:?} splits a character"));
        }
        let utf16 = (
            input[..s.start].encode_utf16().count(),
            input[..s.end].encode_utf16().count(),
        );
        if (s.start_utf16, s.end_utf16) != utf16 {
            return Err(format!(
                "{name}: UTF-16 offsets of {s:?}: expected {utf16:?}"
            ));
        }
        rebuilt.push_str(&input[at..s.start]);
        rebuilt.push_str(s.kind.token());
        at = s.end;
    }
    rebuilt.push_str(&input[at..]);
    if rebuilt != out.text {
        return Err(format!(
            "{name}: not the original with spans replaced: {rebuilt:?} != {:?}",
            out.text
        ));
    }
    if redact(&out.text).text != out.text {
        return Err(format!("{name}: not idempotent"));
    }
    Ok(())
}
