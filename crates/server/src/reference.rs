//! Short human references for receipts, e.g. `CH-7K3Q-9D4M`: read over the phone, typed from
//! a screenshot. No 0/O/1/I/L/U, so nothing is misread.
//!
//! The reference is the row id put through a bijection of 0..30⁸ (multiply by a constant
//! coprime to 30⁸, add an offset), so references are unique by construction — no birthday
//! collisions — and do not reveal how many responses a trust has had.

const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const M: u128 = 656_100_000_000; // 30^8
const A: u128 = 96_889_010_407; // 7^13, coprime to 2, 3 and 5
const B: u128 = 271_828_182_845;

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
}
