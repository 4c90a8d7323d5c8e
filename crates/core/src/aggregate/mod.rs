//! Streaming, mergeable aggregates and their publication.
//!
//! Why this shape: the server adds responses one at a time (streaming), keeps one aggregate per
//! instrument, service and month (constant memory: a fixed set of integers per instrument,
//! bounded by its statements and themes), and combines shards, days and services afterwards.
//! Merging is integer addition, so aggregating parts and merging equals aggregating the whole,
//! *exactly*, in any order — the property tests prove it.
//!
//! Means stay exact by scaling every score by [`SCALE`], a common multiple of every denominator
//! a score can have, so each score becomes an integer. Intervals (a mean's 95% interval, the
//! Wilson interval of a proportion) are computed from those integers with `f64` using only
//! `+ − × ÷` and `sqrt`, which IEEE 754 defines exactly, so every platform prints the same
//! digits.
//!
//! Publication applies the brief's small-number rule: counts below [`SUPPRESS_BELOW`] are
//! shown as `*`, and so is any percentage or mean made from them.

mod publish;

pub use publish::*;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use crate::{
    num::{Score, f64_display_1dp, round_half_even},
    score::{FftCategory, ScoreReport},
};

/// The common scale of every score: lcm(1..=16)² = 720720².
///
/// Why this number: a theme score is a mean of at most
/// [`MAX_THEME_STATEMENTS`](crate::instrument::MAX_THEME_STATEMENTS) = 16 multiples of 25, so
/// its denominator divides lcm(1..=16); the overall score is a mean of at most
/// [`MAX_THEMES`](crate::instrument::MAX_THEMES) = 16 theme scores, so its denominator divides
/// lcm(1..=16)²; CollaboRATE's 27 and SDM-Q-9's 9 and 2 divide it too. Every score × `SCALE`
/// is therefore an integer, and a 0–100 score × `SCALE` (< 2^46) is recovered exactly from its
/// `f64` by rounding. Sums of squares still leave room for ~6·10¹⁰ responses in an `i128`.
pub const SCALE: i128 = 720_720 * 720_720;

/// Counts below this are suppressed in publications (the brief: "counts below 5").
pub const SUPPRESS_BELOW: u64 = 5;

/// z for a two-sided 95% interval (normal approximation, as NHS publications use).
const Z: f64 = 1.96;

/// Mean with a 95% interval: n, Σx and Σx² of values scaled by [`SCALE`], as exact integers,
/// so the accumulator is three numbers whatever the volume, and merges exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeanAcc {
    /// Values added.
    pub n: u64,
    /// Σ x·SCALE.
    pub sum: i128,
    /// Σ (x·SCALE)².
    pub sum_sq: i128,
}

impl MeanAcc {
    /// Add an exact value. Values whose denominator does not divide [`SCALE`] (none of the
    /// brief's scores) are rounded half to even to the nearest 1/SCALE, deterministically.
    pub fn add_ratio(&mut self, r: crate::num::Ratio) {
        self.add_scaled(round_half_even(
            r.num() as i128 * SCALE,
            r.den().max(1) as i128,
        ));
    }

    /// Add a score from a report (as stored, so as an `f64`). Scores are exact ratios whose
    /// denominators divide [`SCALE`], so `value × SCALE` is within 0.02 of an integer and
    /// rounding recovers the exact value. Every score Chorus makes is 0–100: anything else
    /// (a tampered or corrupt report) is not a score and is ignored, so it cannot poison a
    /// published figure or overflow the sums.
    pub fn add_score(&mut self, s: &Score) {
        if !(0.0..=100.0).contains(&s.value) {
            return;
        }
        self.add_scaled((s.value * SCALE as f64).round() as i128);
    }

    fn add_scaled(&mut self, x: i128) {
        self.n = self.n.saturating_add(1);
        self.sum = self.sum.saturating_add(x);
        self.sum_sq = self.sum_sq.saturating_add(x.saturating_mul(x));
    }

    /// Combine with another part (another shard, day or service): plain integer addition, so
    /// the result is exactly the aggregate of the combined responses.
    pub fn merge(&mut self, o: &MeanAcc) {
        self.n = self.n.saturating_add(o.n);
        self.sum = self.sum.saturating_add(o.sum);
        self.sum_sq = self.sum_sq.saturating_add(o.sum_sq);
    }

    /// The exact mean, rounded for display on the exact value; `None` when empty.
    pub fn mean(&self) -> Option<Score> {
        (self.n > 0).then(|| Score::exact(self.sum, self.n as i128 * SCALE))
    }

    /// mean ± 1.96·s/√n, with s the sample standard deviation; `None` for n < 2 (no spread
    /// to estimate). Exact integers as far as they go, then only `÷` and `√`.
    pub fn interval(&self) -> Option<(f64, f64)> {
        let (mean, var_of_mean) = self.mean_and_variance_of_mean()?;
        let half = Z * var_of_mean.sqrt();
        Some((mean - half, mean + half))
    }

    /// The mean and s²/n (the squared standard error), as `f64`; `None` for n < 2. The one
    /// place the spread is computed, so intervals and differences of means agree.
    pub fn mean_and_variance_of_mean(&self) -> Option<(f64, f64)> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as i128;
        let nf = self.n as f64;
        let scale = SCALE as f64;
        let mean = self.sum as f64 / (nf * scale);
        // n·Σx² − (Σx)² is exact while it fits (millions of responses); beyond that the same
        // quantity from f64 moments, still deterministic on every IEEE target.
        let var = match n.checked_mul(self.sum_sq).and_then(|a| {
            self.sum
                .checked_mul(self.sum)
                .and_then(|b| a.checked_sub(b))
        }) {
            Some(spread) => spread.max(0) as f64 / (nf * (nf - 1.0)) / (scale * scale),
            None => {
                let ex2 = self.sum_sq as f64 / nf / (scale * scale);
                ((ex2 - mean * mean) * nf / (nf - 1.0)).max(0.0)
            }
        };
        Some((mean, var / nf))
    }
}

/// A proportion k of n, with the Wilson 95% interval (which, unlike the simple ± interval,
/// stays inside 0–100% and behaves for small n and for 0% or 100%).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proportion {
    /// Successes.
    pub k: u64,
    /// Trials.
    pub n: u64,
}

impl Proportion {
    /// Count one trial.
    pub fn add(&mut self, success: bool) {
        self.n = self.n.saturating_add(1);
        self.k = self.k.saturating_add(u64::from(success));
    }

    /// Combine with another part: integer addition, so exact.
    pub fn merge(&mut self, o: &Proportion) {
        self.k = self.k.saturating_add(o.k);
        self.n = self.n.saturating_add(o.n);
    }

    /// k / n × 100, exactly, rounded for display on the exact value; `None` when n = 0.
    pub fn percent(&self) -> Option<Score> {
        (self.n > 0).then(|| Score::exact(self.k as i128 * 100, self.n as i128))
    }

    /// Wilson score interval, as percentages; `None` when n = 0.
    pub fn wilson(&self) -> Option<(f64, f64)> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        let p = self.k.min(self.n) as f64 / n;
        let z2 = Z * Z;
        let denom = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denom;
        let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
        Some((
            (centre - half).max(0.0) * 100.0,
            (centre + half).min(1.0) * 100.0,
        ))
    }
}

/// Everything Chorus reports about one instrument's responses. One struct for every scoring
/// rule (sections a rule does not use stay empty) so the server keeps a single type per
/// instrument, service and period, and serialises it as it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstrumentAggregate {
    /// Responses added.
    pub responses: u64,
    /// FFT answers in the standard order (very good … don't know).
    pub fft: [u64; 6],
    /// I Statement themes: mean of reported theme scores, and statements agreed with.
    pub themes: BTreeMap<String, ThemeAcc>,
    /// I Statement statements: agreed with, of those answered.
    pub statements: BTreeMap<String, Proportion>,
    /// I Statement overall score.
    pub overall: MeanAcc,
    /// SURE totals 0–4.
    pub sure: [u64; 5],
    /// CollaboRATE top score.
    pub collaborate_top: Proportion,
    /// CollaboRATE mean score.
    pub collaborate_mean: MeanAcc,
    /// SDM-Q-9 score.
    pub sdm_q_9: MeanAcc,
    /// Knowledge check: right answers of those answered.
    pub knowledge: Proportion,
    /// Decision aid: how often answers leaned to each option (key `""`: no clear lean).
    pub lean: BTreeMap<String, u64>,
}

/// One theme's accumulators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeAcc {
    /// Reported theme scores (one per respondent whose theme score was reported).
    pub score: MeanAcc,
    /// Statement answers that agree (agree or strongly agree) of those scored ("does not
    /// apply" is not a scored answer, so it is in neither count).
    pub agree: Proportion,
}

/// FFT answer ids in count order (re-exported here because counts are indexed by it).
pub use crate::instrument::FFT_ANSWER_IDS;

impl InstrumentAggregate {
    /// Add one response's score report. The report is the server's own (re-scored), but
    /// anything malformed in it is skipped rather than trusted.
    pub fn add(&mut self, r: &ScoreReport) {
        self.responses = self.responses.saturating_add(1);
        if let Some(a) = r.fft.as_ref().and_then(|f| f.answer.as_deref())
            && let Some(i) = FFT_ANSWER_IDS.iter().position(|x| *x == a)
        {
            self.fft[i] = self.fft[i].saturating_add(1);
        }
        if let Some(s) = &r.i_statements {
            for st in &s.statements {
                if let Some(v) = st.score {
                    let agrees = v >= 75;
                    self.statements
                        .entry(st.item.clone())
                        .or_default()
                        .add(agrees);
                    self.themes
                        .entry(st.theme.clone())
                        .or_default()
                        .agree
                        .add(agrees);
                }
            }
            for t in &s.themes {
                if let Some(score) = &t.score {
                    self.themes
                        .entry(t.theme.clone())
                        .or_default()
                        .score
                        .add_score(score);
                }
            }
            if let Some(o) = &s.overall {
                self.overall.add_score(o);
            }
        }
        if let Some(t) = r.sure.as_ref().and_then(|s| s.total) {
            let i = usize::from(t.min(4));
            self.sure[i] = self.sure[i].saturating_add(1);
        }
        if let Some(c) = &r.collaborate {
            if let Some(top) = c.top_score {
                self.collaborate_top.add(top);
            }
            if let Some(m) = &c.mean_score {
                self.collaborate_mean.add_score(m);
            }
        }
        if let Some(s) = r.sdm_q_9.as_ref().and_then(|s| s.score.as_ref()) {
            self.sdm_q_9.add_score(s);
        }
        if let Some(k) = &r.knowledge {
            self.knowledge.merge(&Proportion {
                k: u64::from(k.correct.min(k.answered)),
                n: u64::from(k.answered),
            });
        }
        if let Some(l) = &r.lean {
            let e = self
                .lean
                .entry(l.towards.clone().unwrap_or_default())
                .or_default();
            *e = e.saturating_add(1);
        }
    }

    /// Combine with another part (another shard, day or service). Exact: the result equals
    /// the aggregate of both parts' responses added one by one.
    pub fn merge(&mut self, o: &InstrumentAggregate) {
        self.responses = self.responses.saturating_add(o.responses);
        for (a, b) in self.fft.iter_mut().zip(o.fft) {
            *a = a.saturating_add(b);
        }
        for (k, v) in &o.themes {
            let t = self.themes.entry(k.clone()).or_default();
            t.score.merge(&v.score);
            t.agree.merge(&v.agree);
        }
        for (k, v) in &o.statements {
            self.statements.entry(k.clone()).or_default().merge(v);
        }
        self.overall.merge(&o.overall);
        for (a, b) in self.sure.iter_mut().zip(o.sure) {
            *a = a.saturating_add(b);
        }
        self.collaborate_top.merge(&o.collaborate_top);
        self.collaborate_mean.merge(&o.collaborate_mean);
        self.sdm_q_9.merge(&o.sdm_q_9);
        self.knowledge.merge(&o.knowledge);
        for (k, v) in &o.lean {
            let e = self.lean.entry(k.clone()).or_default();
            *e = e.saturating_add(*v);
        }
    }

    /// FFT answers total (all six, don't know included: the brief's denominator).
    pub fn fft_total(&self) -> u64 {
        self.fft.iter().fold(0u64, |a, b| a.saturating_add(*b))
    }

    /// FFT % positive: (very good + good) / all responses (don't know included) × 100.
    pub fn fft_positive(&self) -> Proportion {
        Proportion {
            k: self.fft[0].saturating_add(self.fft[1]),
            n: self.fft_total(),
        }
    }

    /// FFT % negative: (poor + very poor) / all responses (don't know included) × 100.
    pub fn fft_negative(&self) -> Proportion {
        Proportion {
            k: self.fft[3].saturating_add(self.fft[4]),
            n: self.fft_total(),
        }
    }

    /// SURE: respondents screening positive for decisional conflict (total below 4), of
    /// those with a SURE total.
    pub fn sure_conflict(&self) -> Proportion {
        let n = self.sure.iter().fold(0u64, |a, b| a.saturating_add(*b));
        Proportion {
            k: n - self.sure[4].min(n),
            n,
        }
    }

    /// I Statement theme figures for publication: mean theme score with its 95% interval and
    /// % of statement answers agreeing with its Wilson interval, small numbers suppressed.
    pub fn theme_summaries(&self) -> BTreeMap<String, ThemeSummary> {
        self.themes
            .iter()
            .map(|(k, t)| {
                (
                    k.clone(),
                    ThemeSummary {
                        score: publish_mean(&t.score),
                        agree: publish_percent(&t.agree),
                    },
                )
            })
            .collect()
    }

    /// The FFT figures for publication: small numbers suppressed, and then as many more as it
    /// takes (secondary suppression, [`crate::suppress`]) so that no hidden count can be worked
    /// out from the total, the other counts and the two percentages (each gives its numerator
    /// away: % × total).
    pub fn fft_summary(&self) -> FftSummary {
        let total = Pub::count(self.fft_total());
        let positive = publish_percent(&self.fft_positive());
        let negative = publish_percent(&self.fft_negative());
        let primary: Vec<bool> = self.fft.iter().map(|&n| n < SUPPRESS_BELOW).collect();
        let sums = [vec![0, 1, 2, 3, 4, 5], vec![0, 1], vec![3, 4]];
        let shown = [
            total.value().is_some(),
            positive.value().is_some(),
            negative.value().is_some(),
        ];
        let p = crate::suppress::protect(&self.fft, &primary, &sums, &shown);
        let keep =
            |x: Pub<PublishedPercent>, s: usize| if p.published[s] { x } else { Pub::Suppressed };
        FftSummary {
            total: if p.published[0] {
                total
            } else {
                Pub::Suppressed
            },
            counts: FFT_ANSWER_IDS
                .iter()
                .zip(self.fft)
                .zip(&p.hidden)
                .map(|((a, n), h)| {
                    let c = if *h { Pub::Suppressed } else { Pub::Value(n) };
                    ((*a).to_string(), c)
                })
                .collect(),
            positive: keep(positive, 1),
            negative: keep(negative, 2),
        }
    }

    /// Everything publishable about these responses, small numbers suppressed. Sections with
    /// no data at all are left out, so an FFT summary carries no empty SDM-Q-9 section.
    pub fn summary(&self) -> Summary {
        let ist = !self.themes.is_empty() || !self.statements.is_empty() || self.overall.n > 0;
        let collaborate = self.collaborate_top.n > 0 || self.collaborate_mean.n > 0;
        Summary {
            responses: Pub::count(self.responses),
            fft: (self.fft_total() > 0).then(|| self.fft_summary()),
            i_statements: ist.then(|| IStatementSummary {
                overall: publish_mean(&self.overall),
                themes: self.theme_summaries(),
                statements: self
                    .statements
                    .iter()
                    .map(|(k, p)| (k.clone(), publish_percent(p)))
                    .collect(),
            }),
            sure: (self.sure_conflict().n > 0).then(|| SureSummary {
                scored: Pub::count(self.sure_conflict().n),
                totals: self.sure.iter().map(|n| Pub::count(*n)).collect(),
                conflict: publish_percent(&self.sure_conflict()),
            }),
            collaborate: collaborate.then(|| CollaborateSummary {
                top_score: publish_percent(&self.collaborate_top),
                mean_score: publish_mean(&self.collaborate_mean),
            }),
            sdm_q_9: (self.sdm_q_9.n > 0).then(|| publish_mean(&self.sdm_q_9)),
            knowledge: (self.knowledge.n > 0).then(|| publish_percent(&self.knowledge)),
            lean: (!self.lean.is_empty()).then(|| {
                self.lean
                    .iter()
                    .map(|(k, n)| (k.clone(), Pub::count(*n)))
                    .collect()
            }),
        }
    }
}

/// Category of each FFT count position, for reports that group them.
pub const FFT_CATEGORIES: [FftCategory; 6] = [
    FftCategory::Positive,
    FftCategory::Positive,
    FftCategory::Neutral,
    FftCategory::Negative,
    FftCategory::Negative,
    FftCategory::DontKnow,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::Ratio;

    #[test]
    fn every_score_denominator_divides_the_scale() {
        for d in 1..=16i128 {
            for k in 1..=16i128 {
                assert_eq!(SCALE % (d * k), 0, "{d}×{k}");
            }
        }
        assert_eq!(SCALE % 27, 0);
    }

    #[test]
    fn a_score_comes_back_exactly() {
        // 100·(1/7 + 1/11 + … ) style values: every theme/overall denominator.
        for den in [3i64, 7, 9, 11, 13, 16, 27, 48, 112, 176, 208, 256] {
            for num in [1i64, 5, 13, 50, 99] {
                let r = Ratio::new(num * 100, den * 2);
                if r.to_f64() > 100.0 {
                    continue;
                }
                let (mut a, mut b) = (MeanAcc::default(), MeanAcc::default());
                a.add_ratio(r);
                b.add_score(&r.into());
                assert_eq!(a, b, "{num}/{den}");
                assert_eq!(a.mean(), Some(r.into()));
            }
        }
    }

    #[test]
    fn scores_outside_0_100_are_ignored() {
        let mut m = MeanAcc::default();
        for v in [f64::NAN, f64::INFINITY, -1.0, 100.5, 1e300] {
            m.add_score(&Score {
                value: v,
                display: String::new(),
            });
        }
        assert_eq!(m, MeanAcc::default());
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let m = MeanAcc {
            n: u64::MAX / 2,
            sum: 50 * SCALE * (u64::MAX / 2) as i128,
            sum_sq: i128::MAX,
        };
        let (lo, hi) = m.interval().unwrap();
        assert!(lo.is_finite() && hi.is_finite());
        assert_eq!(m.mean().unwrap().display, "50.0");
    }

    #[test]
    fn aggregate_round_trips_through_json() {
        let mut m = InstrumentAggregate::default();
        m.overall.add_ratio(Ratio::new(175, 3));
        m.fft[2] = 7;
        let json = serde_json::to_string(&m).unwrap();
        let back: InstrumentAggregate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
}
