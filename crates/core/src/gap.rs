//! Experience gaps between groups of patients, and who is not being heard.
//!
//! For one characteristic (age band, ethnic group, disability, …) a report shows, per group:
//! how many answered, the group's figure (FFT % positive, or an I Statement theme's mean
//! score) with its 95% interval, the difference from **everyone else** (the rest of the
//! responses in the same range, including those who did not say) with its 95% interval, and
//! a verdict in words. Where the site has entered a reference mix (for example its
//! catchment's census shares), it also says whether a group is under- or over-represented
//! among those who answered the question.
//!
//! Why these methods:
//! - A difference of two proportions uses Newcombe's hybrid score interval (his method 10:
//!   the two Wilson intervals combined), which, unlike the simple ± interval, behaves for
//!   small groups and for 0% or 100%. A difference of two means uses the normal
//!   approximation with each group's own spread (Welch), as for the published means.
//! - A verdict says "higher" or "lower" **only** where the whole interval lies on one side of
//!   zero, and only for groups large enough to publish: a tiny group gives a wide interval,
//!   so it never raises a false alarm.
//! - Only `+ − × ÷` and `sqrt` on `f64`, so every target gives the same bits (the brief).
//!
//! Publication: group counts below 5 are suppressed, and so is every figure made from them;
//! then [`crate::suppress::protect`] hides further counts wherever a hidden one could be
//! worked out from the total and the others (the counts per group, and the positive counts
//! behind the percentages, are each a table with a published total). A difference is shown
//! only beside the group's own published figure, because with the overall figure it gives
//! the group's figure away.
//!
//! Vectors: `vectors/gap.json`, from the independent reference `vectors/gap_reference.py`.

use crate::aggregate::{
    MeanAcc, Proportion, Pub, PublishedMean, PublishedPercent, SUPPRESS_BELOW, publish_mean,
    publish_percent,
};
use crate::num::f64_display_1dp;
use serde::{Deserialize, Serialize};

/// z for a two-sided 95% interval, as everywhere in Chorus.
const Z: f64 = 1.96;

/// A group's answers to the figure being compared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group<A> {
    /// The category as the report shows it ("16 to 24", "Prefer not to say").
    pub label: String,
    /// `false` for "prefer not to say" and "not answered": shown, never compared, and left
    /// out of the shares.
    pub stated: bool,
    /// Reference share in tenths of a percent (e.g. 123 = 12.3%), if the site entered one.
    pub reference_tenths: Option<u32>,
    /// The group's accumulator.
    pub acc: A,
}

/// What a verdict says, for the words and the icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval lies wholly above zero.
    Higher,
    /// The interval lies wholly below zero.
    Lower,
    /// The interval includes zero.
    NoClearDifference,
    /// Too few in the group or in the rest to compare (or the figure is suppressed).
    TooFew,
    /// "Prefer not to say" and the like: not compared.
    NotCompared,
}

impl Verdict {
    /// The verdict in plain words (English; the dashboard is English-only for now).
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Higher => "higher than everyone else",
            Verdict::Lower => "lower than everyone else",
            Verdict::NoClearDifference => "no clear difference from everyone else",
            Verdict::TooFew => "too few responses to compare",
            Verdict::NotCompared => "not compared",
        }
    }
}

/// Whether a group's share of those who answered matches the reference mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Representation {
    /// The share's whole interval lies below the reference share.
    Under,
    /// The share's whole interval lies above it.
    Over,
    /// The interval includes the reference share.
    InLine,
}

impl Representation {
    /// In plain words.
    pub fn words(self) -> &'static str {
        match self {
            Representation::Under => "fewer responses than expected",
            Representation::Over => "more responses than expected",
            Representation::InLine => "about as many responses as expected",
        }
    }
}

/// A difference as computed (percentage points or score points), before publication.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// Group minus everyone else.
    pub d: f64,
    /// 95% lower bound.
    pub low: f64,
    /// 95% upper bound.
    pub high: f64,
}

impl Difference {
    fn verdict(&self) -> Verdict {
        if self.low > 0.0 {
            Verdict::Higher
        } else if self.high < 0.0 {
            Verdict::Lower
        } else {
            Verdict::NoClearDifference
        }
    }

    fn published(&self) -> PublishedDifference {
        PublishedDifference {
            points: f64_display_1dp(self.d),
            low: f64_display_1dp(self.low),
            high: f64_display_1dp(self.high),
        }
    }
}

/// A difference as published: one decimal place, half to even on the exact binary value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedDifference {
    /// Group minus everyone else.
    pub points: String,
    /// 95% lower bound.
    pub low: String,
    /// 95% upper bound.
    pub high: String,
}

/// Newcombe's hybrid score interval for p₁ − p₂, in percentage points; `None` when either
/// side is empty.
pub fn proportion_difference(a: &Proportion, b: &Proportion) -> Option<Difference> {
    let (l1, u1) = a.wilson()?;
    let (l2, u2) = b.wilson()?;
    let p1 = a.k.min(a.n) as f64 / a.n as f64 * 100.0;
    let p2 = b.k.min(b.n) as f64 / b.n as f64 * 100.0;
    let d = p1 - p2;
    let below = ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).sqrt();
    let above = ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).sqrt();
    Some(Difference {
        d,
        low: d - below,
        high: d + above,
    })
}

/// The difference of two means with the normal approximation and each side's own spread;
/// `None` when either side has fewer than two values.
pub fn mean_difference(a: &MeanAcc, b: &MeanAcc) -> Option<Difference> {
    let (ma, va) = a.mean_and_variance_of_mean()?;
    let (mb, vb) = b.mean_and_variance_of_mean()?;
    let d = ma - mb;
    let half = Z * (va + vb).sqrt();
    Some(Difference {
        d,
        low: d - half,
        high: d + half,
    })
}

/// The rest: everyone in `all` who is not in `part` (exact integer subtraction).
pub fn rest_of_proportion(all: &Proportion, part: &Proportion) -> Proportion {
    Proportion {
        k: all.k.saturating_sub(part.k),
        n: all.n.saturating_sub(part.n),
    }
}

/// The rest of a mean accumulator (exact integer subtraction).
pub fn rest_of_mean(all: &MeanAcc, part: &MeanAcc) -> MeanAcc {
    MeanAcc {
        n: all.n.saturating_sub(part.n),
        sum: all.sum - part.sum,
        sum_sq: all.sum_sq - part.sum_sq,
    }
}

/// One row of a gap table, as published.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GapRow<F> {
    /// The category.
    pub label: String,
    /// How many responses the group has.
    pub n: Pub<u64>,
    /// The group's figure with its interval.
    pub figure: Pub<F>,
    /// Group minus everyone else, with its interval.
    pub difference: Pub<PublishedDifference>,
    /// What the difference says.
    pub verdict: Verdict,
    /// The group's share of those who stated a category, one decimal place (if shown).
    pub share: Pub<String>,
    /// Against the reference mix, when the site entered one.
    pub representation: Option<Representation>,
}

/// A whole gap table for one characteristic.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GapTable<F> {
    /// All responses in the range (whether or not they answered the question).
    pub total: Pub<u64>,
    /// One row per category, in the order given.
    pub rows: Vec<GapRow<F>>,
}

/// The gap table for a proportion (FFT % positive). `all` covers every response in the range,
/// including those not in any group (did not answer the question at all).
pub fn proportion_gaps(
    groups: &[Group<Proportion>],
    all: &Proportion,
) -> GapTable<PublishedPercent> {
    let ns: Vec<u64> = groups.iter().map(|g| g.acc.n).collect();
    let ks: Vec<u64> = groups.iter().map(|g| g.acc.k.min(g.acc.n)).collect();
    let hidden_n = protect_counts(&ns, all.n);
    // A percentage is shown only where its count is and publish_percent allows it; the
    // positives behind the shown percentages are then a table with the overall positives.
    let primary_k: Vec<bool> = groups
        .iter()
        .zip(&hidden_n)
        .map(|(g, &h)| h || publish_percent(&g.acc).value().is_none())
        .collect();
    let hidden_k = crate::suppress::protect_parts(&ks, &primary_k, all.k);
    let shares = shares(groups, &hidden_n);
    let rows = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let figure = if hidden_k[i] {
                Pub::Suppressed
            } else {
                publish_percent(&g.acc)
            };
            let rest = rest_of_proportion(all, &g.acc);
            let diff = proportion_difference(&g.acc, &rest);
            let comparable = rest.n >= SUPPRESS_BELOW && publish_percent(&rest).value().is_some();
            row(g, i, &hidden_n, figure, diff, comparable, &shares)
        })
        .collect();
    GapTable {
        total: Pub::count(all.n),
        rows,
    }
}

/// The gap table for a mean (an I Statement theme's score), like [`proportion_gaps`].
pub fn mean_gaps(groups: &[Group<MeanAcc>], all: &MeanAcc) -> GapTable<PublishedMean> {
    let ns: Vec<u64> = groups.iter().map(|g| g.acc.n).collect();
    let hidden_n = protect_counts(&ns, all.n);
    let shares = shares(groups, &hidden_n);
    let rows = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let figure = if hidden_n[i] {
                Pub::Suppressed
            } else {
                publish_mean(&g.acc)
            };
            let rest = rest_of_mean(all, &g.acc);
            let diff = mean_difference(&g.acc, &rest);
            let comparable = rest.n >= SUPPRESS_BELOW;
            row(g, i, &hidden_n, figure, diff, comparable, &shares)
        })
        .collect();
    GapTable {
        total: Pub::count(all.n),
        rows,
    }
}

fn row<A: Counted, F>(
    g: &Group<A>,
    i: usize,
    hidden_n: &[bool],
    figure: Pub<F>,
    diff: Option<Difference>,
    rest_comparable: bool,
    shares: &[(Pub<String>, Option<Representation>)],
) -> GapRow<F> {
    let (difference, verdict) = match (g.stated, &figure, diff) {
        (false, _, _) => (Pub::Suppressed, Verdict::NotCompared),
        (true, Pub::Value(_), Some(d)) if rest_comparable => {
            (Pub::Value(d.published()), d.verdict())
        }
        _ => (Pub::Suppressed, Verdict::TooFew),
    };
    let (share, representation) = shares[i].clone();
    GapRow {
        label: g.label.clone(),
        n: if hidden_n[i] {
            Pub::Suppressed
        } else {
            Pub::Value(g.acc.count())
        },
        figure,
        difference,
        verdict,
        share,
        representation,
    }
}

/// Accumulators that know how many responses they hold.
pub trait Counted {
    /// Responses counted.
    fn count(&self) -> u64;
}

impl Counted for Proportion {
    fn count(&self) -> u64 {
        self.n
    }
}

impl Counted for MeanAcc {
    fn count(&self) -> u64 {
        self.n
    }
}

/// Which group counts to hide: below the threshold (but not zero: nobody is disclosed by a
/// zero), then whatever the total and the others would give away.
fn protect_counts(ns: &[u64], total: u64) -> Vec<bool> {
    let primary: Vec<bool> = ns
        .iter()
        .map(|&n| (1..SUPPRESS_BELOW).contains(&n))
        .collect();
    crate::suppress::protect_parts(ns, &primary, total)
}

/// Each group's share of those who stated a category, and its representation against the
/// reference. A hidden count hides its share; the verdict stays (it says only "fewer or more
/// than expected", which the suppression itself already implies for a small group).
fn shares<A: Counted>(
    groups: &[Group<A>],
    hidden_n: &[bool],
) -> Vec<(Pub<String>, Option<Representation>)> {
    let stated: u64 = groups
        .iter()
        .filter(|g| g.stated)
        .map(|g| g.acc.count())
        .sum();
    groups
        .iter()
        .zip(hidden_n)
        .map(|(g, &hidden)| {
            if !g.stated || stated == 0 {
                return (Pub::Suppressed, None);
            }
            let p = Proportion {
                k: g.acc.count(),
                n: stated,
            };
            let share = if hidden {
                Pub::Suppressed
            } else {
                match p.percent() {
                    Some(s) => Pub::Value(s.display),
                    None => Pub::Suppressed,
                }
            };
            let representation = g.reference_tenths.and_then(|r| representation(&p, r));
            (share, representation)
        })
        .collect()
}

/// Under, over or in line with a reference share given in tenths of a percent.
pub fn representation(share: &Proportion, reference_tenths: u32) -> Option<Representation> {
    let (lo, hi) = share.wilson()?;
    let r = reference_tenths as f64 / 10.0;
    Some(if hi < r {
        Representation::Under
    } else if lo > r {
        Representation::Over
    } else {
        Representation::InLine
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: u64, n: u64) -> Proportion {
        Proportion { k, n }
    }

    fn g(label: &str, k: u64, n: u64) -> Group<Proportion> {
        Group {
            label: label.into(),
            stated: true,
            reference_tenths: None,
            acc: p(k, n),
        }
    }

    #[test]
    fn newcombe_matches_the_published_worked_example() {
        // Newcombe (1998), Table II, example (a): 56/70 − 48/80: 0.2000, interval
        // 0.0524 to 0.3339 for method 10.
        let d = proportion_difference(&p(56, 70), &p(48, 80)).unwrap();
        assert!((d.d - 20.0).abs() < 1e-9);
        assert!((d.low - 5.24).abs() < 0.01, "{}", d.low);
        assert!((d.high - 33.39).abs() < 0.01, "{}", d.high);
    }

    #[test]
    fn a_tiny_group_never_raises_an_alarm() {
        // 0 of 5 positive against 95 of 100: a big gap, and wide enough to be real…
        let t = proportion_gaps(&[g("a", 0, 5), g("b", 95, 100)], &p(95, 105));
        assert_eq!(
            t.rows[0].verdict,
            Verdict::TooFew,
            "0 positives: figure suppressed"
        );
        // …but 3 of 4 is suppressed, so nothing about it is said.
        let t = proportion_gaps(&[g("a", 3, 4), g("b", 60, 100)], &p(63, 104));
        assert_eq!(t.rows[0].n, Pub::Suppressed);
        assert_eq!(t.rows[0].verdict, Verdict::TooFew);
        // and its count cannot be had from the total: the other count is hidden too.
        assert_eq!(t.rows[1].n, Pub::Suppressed);
    }

    #[test]
    fn a_real_gap_is_named() {
        let t = proportion_gaps(
            &[g("a", 30, 60), g("b", 180, 200), g("c", 40, 50)],
            &p(250, 310),
        );
        assert_eq!(t.rows[0].verdict, Verdict::Lower);
        assert_eq!(t.rows[1].verdict, Verdict::Higher);
        assert_eq!(t.rows[2].verdict, Verdict::NoClearDifference);
        assert_eq!(t.rows[0].share, Pub::Value("19.4".into()));
    }

    #[test]
    fn not_stated_is_shown_but_never_compared() {
        let mut n = g("Prefer not to say", 20, 30);
        n.stated = false;
        let t = proportion_gaps(&[g("a", 50, 60), n], &p(70, 90));
        assert_eq!(t.rows[1].verdict, Verdict::NotCompared);
        assert_eq!(t.rows[1].share, Pub::Suppressed);
        assert_eq!(t.rows[1].n, Pub::Value(30));
    }

    #[test]
    fn representation_against_a_reference() {
        assert_eq!(
            representation(&p(10, 400), 150),
            Some(Representation::Under)
        );
        assert_eq!(
            representation(&p(120, 400), 150),
            Some(Representation::Over)
        );
        assert_eq!(
            representation(&p(60, 400), 150),
            Some(Representation::InLine)
        );
    }

    #[test]
    fn mean_difference_uses_both_spreads() {
        let mut a = MeanAcc::default();
        let mut b = MeanAcc::default();
        for v in [50, 75, 100, 75, 50, 75] {
            a.add_ratio(crate::num::Ratio::int(v));
        }
        for v in [25, 50, 25, 50, 0, 50, 25] {
            b.add_ratio(crate::num::Ratio::int(v));
        }
        let d = mean_difference(&a, &b).unwrap();
        assert!((d.d - (425.0 / 6.0 - 225.0 / 7.0)).abs() < 1e-9);
        assert_eq!(d.verdict(), Verdict::Higher);
    }
}
