//! The fuzzer's redaction regressions (`fuzz/regressions/redaction/`), replayed natively with
//! the fuzz target's own checks, so `cargo test` catches a return of any of them without a
//! nightly toolchain or a fuzz run.
#![cfg(not(target_arch = "wasm32"))]

/// The invariants `fuzz/fuzz_targets/redaction.rs` asserts, for one input.
fn check(name: &str, input: &str) {
    if let Err(e) = chorus_core::testing::redaction_invariants(name, input) {
        panic!("{e}");
    }
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
