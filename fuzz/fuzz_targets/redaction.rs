//! Redaction of free text: never panics on any string; spans lie on character boundaries, in
//! order, without overlap, with UTF-16 offsets that match the byte offsets; the text is the
//! original with each span replaced by its token; and redaction is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    if let Err(e) = chorus_core::testing::redaction_invariants("input", &input) {
        panic!("{e}");
    }
});
