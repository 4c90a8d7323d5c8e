//! Redaction of free text: never panics on any string; spans lie on character boundaries, in
//! order, without overlap, with UTF-16 offsets that match the byte offsets; the text is the
//! original with each span replaced by its token; and redaction is idempotent.
#![no_main]

use chorus_core::redact::redact;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let out = redact(&input);
    let mut rebuilt = String::new();
    let mut at = 0;
    for s in &out.spans {
        assert!(
            at <= s.start && s.start < s.end && s.end <= input.len(),
            "span {s:?} out of order or bounds"
        );
        assert!(
            input.is_char_boundary(s.start) && input.is_char_boundary(s.end),
            "span {s:?} splits a character"
        );
        assert_eq!(
            s.start_utf16,
            input[..s.start].encode_utf16().count(),
            "UTF-16 start of {s:?}"
        );
        assert_eq!(
            s.end_utf16,
            input[..s.end].encode_utf16().count(),
            "UTF-16 end of {s:?}"
        );
        rebuilt.push_str(&input[at..s.start]);
        rebuilt.push_str(s.kind.token());
        at = s.end;
    }
    rebuilt.push_str(&input[at..]);
    assert_eq!(
        rebuilt, out.text,
        "the text is not the original with the spans replaced"
    );
    assert_eq!(
        redact(&out.text).text,
        out.text,
        "redaction is not idempotent"
    );
});
