//! The envelope's `withdraw_secret`: a one-time code the widget makes for each response and
//! shows only on the patient's receipt, so that they (and only they) can withdraw the response
//! later, without an account.
//!
//! The code is typed back by a person, so it uses the receipt reference's alphabet (no 0, O,
//! 1, I, L or U: nothing to misread), is forgiving of case, spaces and dashes, and is shown in
//! groups of four. 28 characters of 30 carry 137 bits, above the 128 a guess must beat. The
//! server refuses anything shorter or outside the alphabet, and stores only a hash of it.

/// The characters of a code (those of a receipt reference).
pub const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code the widget makes, and the fewest accepted (28 × log2 30 ≈ 137 bits).
pub const SECRET_LEN: usize = 28;
/// Most characters accepted (an integration may send a longer code).
pub const SECRET_MAX: usize = 64;

/// Is `s` a well-formed code as sent in an envelope: 28 to 64 characters of [`ALPHABET`]
/// (upper case, no dashes)? Whether it is random is the sender's promise.
pub fn is_secret(s: &str) -> bool {
    (SECRET_LEN..=SECRET_MAX).contains(&s.len()) && s.bytes().all(|b| ALPHABET.contains(&b))
}

/// A code as a person typed it, in the form sent: dashes and spaces dropped, upper case.
pub fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A code from random bytes (the browser's CSPRNG): bytes of 240 and over are skipped so each
/// character is uniform; `None` if the bytes run out first.
pub fn from_random(bytes: &[u8]) -> Option<String> {
    let s: String = bytes
        .iter()
        .filter(|b| **b < 240)
        .take(SECRET_LEN)
        .map(|b| ALPHABET[(*b % 30) as usize] as char)
        .collect();
    (s.len() == SECRET_LEN).then_some(s)
}

/// A code as shown on a receipt: groups of four, joined by spaces (not dashes: a run such as
/// `…CH-7K3Q-9D4M` must never read as a receipt reference).
pub fn grouped(secret: &str) -> String {
    let mut out = String::with_capacity(secret.len() + secret.len() / 4);
    for (i, c) in secret.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_28_to_64_characters_of_the_reference_alphabet() {
        let good = "7K3Q9D4MABCDEFGHJKMNPQRSTVWX";
        assert!(is_secret(good));
        assert!(is_secret(&"Z".repeat(64)));
        // Too short, too long, lower case, misreadable letters, dashes, another alphabet.
        assert!(!is_secret(&good[..27]));
        assert!(!is_secret(&"Z".repeat(65)));
        assert!(!is_secret(&good.to_lowercase()));
        assert!(!is_secret("0K3Q9D4MABCDEFGHJKMNPQRSTVWX"));
        assert!(!is_secret("IK3Q9D4MABCDEFGHJKMNPQRSTVWX"));
        assert!(!is_secret(&grouped(good)));
        assert!(!is_secret("q8_Zx-0Lk3mN9pQrStUvWxq8_Zx-"));
        assert!(!is_secret(""));
    }

    #[test]
    fn a_typed_code_is_read_back_as_sent() {
        let good = "7K3Q9D4MABCDEFGHJKMNPQRSTVWX";
        assert_eq!(grouped(good), "7K3Q 9D4M ABCD EFGH JKMN PQRS TVWX");
        assert_eq!(normalise(&grouped(good)), good);
        assert_eq!(normalise(" 7k3q 9d4m-abcd efgh jkmn-pqrs-tvwx "), good);
    }

    #[test]
    fn codes_from_random_bytes_are_uniform_and_whole() {
        // Every byte value below 240 maps to one character, 8 values each.
        let all: Vec<u8> = (0..=255).collect();
        let mut counts = [0usize; 30];
        for b in all.iter().filter(|b| **b < 240) {
            counts[(*b % 30) as usize] += 1;
        }
        assert!(counts.iter().all(|c| *c == 8));
        let s = from_random(&all).unwrap();
        assert!(is_secret(&s));
        assert_eq!(&s[..4], "2345");
        // Bytes of 240 and over are skipped; too few usable bytes make no code.
        let high = [250u8; 100];
        assert_eq!(from_random(&high), None);
        let mut mixed = vec![255u8; 10];
        mixed.extend([0u8; 28]);
        assert_eq!(from_random(&mixed).unwrap(), "2".repeat(28));
        assert_eq!(from_random(&[0u8; 27]), None);
    }
}
