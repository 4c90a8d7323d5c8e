//! Exact numbers for scores, and the one rounding rule for display.
//!
//! Scores are ratios of small integers (a mean of multiples of 25, a sum × 20 / 9…). Keeping
//! them exact until the last step means the browser and the server cannot disagree, and the
//! display rounding (half to even at one decimal place) is decided on the exact value, not on
//! a binary approximation of it.

use serde::{Deserialize, Serialize};

/// An exact rational `num / den`, always in lowest terms, `den > 0`. Scores are computed in
/// these so that no binary rounding happens before the final display rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    num: i64,
    den: i64,
}

/// Greatest common divisor (at least 1, so it is always a safe divisor), shared by ratios and
/// the aggregates' exact means.
pub(crate) fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

impl Ratio {
    /// `num / den`. A zero denominator is a programming error; it yields zero rather than
    /// panicking, because the core must never panic on any input.
    pub fn new(num: i64, den: i64) -> Ratio {
        if den == 0 {
            return Ratio { num: 0, den: 1 };
        }
        let g = gcd(num.into(), den.into()) as i64;
        let sign = if den < 0 { -1 } else { 1 };
        Ratio {
            num: sign * num / g,
            den: sign * den / g,
        }
    }

    /// A whole number, without a needless gcd.
    pub fn int(n: i64) -> Ratio {
        Ratio { num: n, den: 1 }
    }

    /// Numerator (lowest terms), for exact consumers such as the aggregates.
    pub fn num(self) -> i64 {
        self.num
    }

    /// Denominator (lowest terms, positive), for exact consumers such as the aggregates.
    pub fn den(self) -> i64 {
        self.den
    }

    /// The nearest `f64`: one correctly rounded division, identical on every IEEE target.
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The value in tenths, rounded half to even: the brief's display rule, decided on the
    /// exact value so that 12.25 is a tie (→ 12.2) on every platform.
    pub fn tenths_half_even(self) -> i64 {
        round_half_even(self.num as i128 * 10, self.den as i128) as i64
    }

    /// Display with one decimal place, rounded half to even (`12.25` → `"12.2"`): the text
    /// people see, identical in browser and server.
    pub fn display_1dp(self) -> String {
        tenths_to_string(self.tenths_half_even())
    }
}

impl std::ops::Add for Ratio {
    type Output = Ratio;
    fn add(self, o: Ratio) -> Ratio {
        Ratio::new(self.num * o.den + o.num * self.den, self.den * o.den)
    }
}

impl std::ops::Mul for Ratio {
    type Output = Ratio;
    fn mul(self, o: Ratio) -> Ratio {
        Ratio::new(self.num * o.num, self.den * o.den)
    }
}

/// Division by zero gives zero (see [`Ratio::new`]): the core never panics.
impl std::ops::Div for Ratio {
    type Output = Ratio;
    fn div(self, o: Ratio) -> Ratio {
        Ratio::new(self.num * o.den, self.den * o.num)
    }
}

/// `n / d` rounded to the nearest integer, ties to even (`d > 0`): integer arithmetic only,
/// so it is exact and the same everywhere.
pub fn round_half_even(n: i128, d: i128) -> i128 {
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    // r against d − r rather than 2r against d: the same test, and it cannot overflow.
    match r.cmp(&(d - r)) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// Format a count of tenths as `"-1.5"`, `"0.0"`, `"100.0"`, without going through a
/// float formatter (whose rounding is not the brief's).
pub fn tenths_to_string(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    let a = t.unsigned_abs();
    format!("{sign}{}.{}", a / 10, a % 10)
}

/// Round an `f64` (from an interval computation) to one decimal place, half to even, decided
/// on the exact binary value so every target agrees (and not via `format!`, whose rounding is
/// not the brief's).
pub fn f64_display_1dp(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    // Exact decomposition of the double: x = m × 2^e.
    let bits = x.to_bits();
    let neg = bits >> 63 == 1;
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    // Scores and percentages are at most a few hundred: shift into i128 safely.
    let tenths = if e >= 0 {
        if e > 60 {
            return if neg { "-inf".into() } else { "inf".into() };
        }
        ((m as i128) << e as u32) * 10
    } else if e < -120 {
        0
    } else {
        round_half_even(m as i128 * 10, 1i128 << (-e) as u32)
    };
    let tenths = if neg { -tenths } else { tenths };
    tenths_to_string(tenths as i64)
}

/// A score as it travels in a report: the exact value's nearest `f64` for machines and the
/// rounded one-decimal text for people. Both are derived from the exact value, so two
/// reports of the same response are equal field for field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The value (0–100 for most scores).
    pub value: f64,
    /// The value rounded half to even to one decimal place.
    pub display: String,
}

/// Why a conversion and not a constructor: every score starts life as an exact [`Ratio`], so
/// the only way to make a `Score` is from one (or from exact integer parts, [`Score::exact`]).
impl From<Ratio> for Score {
    fn from(r: Ratio) -> Score {
        Score {
            value: r.to_f64(),
            display: r.display_1dp(),
        }
    }
}

impl Score {
    /// The score of the exact fraction `num / den` (`den > 0`) held in wide integers: an
    /// aggregate's mean has a denominator (responses × the common scale) that outgrows an
    /// `i64` ratio, but must still be rounded for display on the exact value. A zero or
    /// negative denominator yields 0 rather than panicking.
    pub fn exact(num: i128, den: i128) -> Score {
        if den <= 0 {
            return Ratio::int(0).into();
        }
        let g = gcd(num, den);
        let (num, den) = (num / g, den / g);
        // Lowest terms first: when both fit 53 bits this is the one correctly rounded
        // division, bit-equal to `Ratio::to_f64` of the same value.
        Score {
            value: num as f64 / den as f64,
            display: tenths_to_string(
                round_half_even(num.saturating_mul(10), den)
                    .clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_even_ties() {
        assert_eq!(Ratio::new(1225, 100).display_1dp(), "12.2");
        assert_eq!(Ratio::new(1235, 100).display_1dp(), "12.4");
        assert_eq!(Ratio::new(200, 3).display_1dp(), "66.7");
        assert_eq!(Ratio::new(-5, 100).display_1dp(), "0.0"); // -0.5 tenths → 0
        assert_eq!(Ratio::new(-15, 100).display_1dp(), "-0.2");
        assert_eq!(f64_display_1dp(0.25), "0.2");
        assert_eq!(f64_display_1dp(0.35), "0.3"); // 0.35 is 0.34999… in binary
        assert_eq!(f64_display_1dp(99.95), "100.0"); // 99.950000000000002842…
        assert_eq!(f64_display_1dp(12.25), "12.2");
    }
}
