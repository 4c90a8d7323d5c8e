//! The fuzzer's redaction regressions (`fuzz/regressions/redaction/`), replayed natively with
//! the fuzz target's own checks, so `cargo test` catches a return of any of them without a
//! nightly toolchain or a fuzz run.
#![cfg(not(target_arch = "wasm32"))]

use chorus_core::redact::redact;

/// The invariants `fuzz/fuzz_targets/redaction.rs` asserts, for one input.
fn check(name: &str, input: &str) {
    let out = redact(input);
    let mut rebuilt = String::new();
    let mut at = 0;
    for s in &out.spans {
        assert!(
            at <= s.start && s.start < s.end && s.end <= input.len(),
            "{name}: span {s:?} out of order or bounds"
        );
        assert!(
            input.is_char_boundary(s.start) && input.is_char_boundary(s.end),
            "{name}: span {s:?} splits a character"
        );
        assert_eq!(
            (s.start_utf16, s.end_utf16),
            (
                input[..s.start].encode_utf16().count(),
                input[..s.end].encode_utf16().count()
            ),
            "{name}: UTF-16 offsets of {s:?}"
        );
        rebuilt.push_str(&input[at..s.start]);
        rebuilt.push_str(s.kind.token());
        at = s.end;
    }
    rebuilt.push_str(&input[at..]);
    assert_eq!(
        rebuilt, out.text,
        "{name}: not the original with spans replaced"
    );
    assert_eq!(redact(&out.text).text, out.text, "{name}: not idempotent");
}

#[test]
fn fuzz_regressions_for_redaction_still_pass() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/regressions/redaction"
    );
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("fuzz/regressions/redaction exists") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        // As the fuzz target reads its bytes.
        check(&path.display().to_string(), &String::from_utf8_lossy(&data));
        n += 1;
    }
    assert!(n >= 4, "only {n} regression inputs found in {dir}");
}
