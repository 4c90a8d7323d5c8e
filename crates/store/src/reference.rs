//! Short human references for receipts, e.g. `CH-7K3Q-9D4M`: read over the phone, typed from
//! a screenshot. No 0/O/1/I/L/U, so nothing is misread.
//!
//! The reference is the row id put through a bijection of 0..30⁸ (multiply by a constant
//! coprime to 30⁸, add an offset), so references are unique by construction — no birthday
//! collisions — and do not reveal how many responses a trust has had. Being a function of the
//! id, it is not stored: [`from_id`] makes it, [`to_id`] finds the row again.

const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const M: u128 = 656_100_000_000; // 30^8
const A: u128 = 96_889_010_407; // 7^13, coprime to 2, 3 and 5
const B: u128 = 271_828_182_845;
const A_INVERSE: u128 = 580_813_507_543; // A × A_INVERSE ≡ 1 (mod M)

/// The reference for a stored row id.
pub fn from_id(id: i64) -> String {
    let mut n = ((id.unsigned_abs() as u128 % M) * A + B) % M;
    let mut s = String::with_capacity(12);
    s.push_str("CH-");
    for i in 0..8 {
        if i == 4 {
            s.push('-');
        }
        s.push(ALPHABET[(n % 30) as usize] as char);
        n /= 30;
    }
    s
}

/// The row id a reference stands for (ids below 30⁸), or `None` if it is not a reference.
/// Case and a missing `CH-` or dash are forgiven: people retype these.
pub fn to_id(reference: &str) -> Option<i64> {
    let mut digits: Vec<u8> = reference
        .bytes()
        .filter(|&b| b != b'-' && !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if digits.len() == 10 && digits.starts_with(b"CH") {
        digits.drain(..2);
    }
    if digits.len() != 8 {
        return None;
    }
    let mut n: u128 = 0;
    for &d in digits.iter().rev() {
        n = n * 30 + ALPHABET.iter().position(|&a| a == d)? as u128;
    }
    let x = ((n + M - B % M) % M) * A_INVERSE % M;
    i64::try_from(x).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn unique_and_readable() {
        let refs: HashSet<String> = (1..50_000).map(super::from_id).collect();
        assert_eq!(refs.len(), 49_999);
        let a = super::from_id(1);
        assert_eq!(a.len(), 12);
        assert!(!a[3..].contains(['0', 'O', '1', 'I', 'L', 'U']));
    }

    #[test]
    fn references_lead_back_to_their_ids() {
        for id in [1, 2, 29, 30, 12_345, 9_999_999, 656_099_999_999] {
            let r = super::from_id(id);
            assert_eq!(super::to_id(&r), Some(id), "{r}");
            assert_eq!(super::to_id(&r.to_lowercase().replace("-", "")), Some(id));
        }
        assert_eq!(super::A * super::A_INVERSE % super::M, 1);
        assert_eq!(
            super::to_id(&format!(" ch{} ", &super::from_id(7)[3..])),
            Some(7)
        );
        assert_eq!(super::to_id("CH-0000-0000"), None);
        assert_eq!(super::to_id("CH-2345"), None);
    }
}
