//! Small helpers shared by the API, the dashboard and the command line: the clock as stored,
//! hex digests, random tokens.

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Today's date, UTC: the date a decision aid's review date is checked against (the core has
/// no clock).
pub fn today() -> chorus_core::aid::Date {
    chorus_core::aid::Date::from_unix_days(now_secs().div_euclid(86_400))
}

/// The stored timestamp format for now.
pub fn now_iso() -> String {
    crate::store::iso_utc(now_secs())
}

/// 32 bytes from the operating system's generator, as 64 hex digits.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS generator failing is not something to carry on from with a weak token.
    getrandom::fill(&mut b).expect("the operating system's random number generator failed");
    hex(&b)
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of `s`, hex.
pub fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(s.as_bytes()))
}

/// Percent-encode a path segment or query value: everything but the unreserved characters
/// (site, service and instrument ids are the trust's own, so anything may be in them).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
