//! Streaming, mergeable aggregates and their publication.
//!
//! Each accumulator holds a fixed number of integers (constant memory per instrument) and
//! merging is integer addition, so aggregating parts and merging equals aggregating the whole,
//! exactly — whatever order the server's shards or months are combined in. Means are kept
//! exact by scaling every value by [`SCALE`], a common multiple of every denominator a score
//! can have (1–16 for theme means, 27 for CollaboRATE, 9 for SDM-Q-9).
//!
//! Publication applies the brief's small-number rule: counts below [`SUPPRESS_BELOW`] are
//! shown as `*`, and so is any percentage or mean made from them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use crate::{
    num::{Ratio, Score, f64_display_1dp},
    score::{FftCategory, ScoreReport},
};

/// lcm(1..=16) × 3 = 2⁴·3³·5·7·11·13: every score denominator divides it.
pub const SCALE: i128 = 2_162_160;

/// Counts below this are suppressed in publications.
pub const SUPPRESS_BELOW: u64 = 5;

/// z for a two-sided 95% interval.
const Z: f64 = 1.96;

/// Mean with a 95% interval: n, Σx and Σx² of values scaled by [`SCALE`], as exact integers.
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
    /// Add an exact value.
    pub fn add_ratio(&mut self, r: Ratio) {
        self.add_scaled(r.num() as i128 * SCALE / r.den() as i128);
    }

    /// Add a score from a report. Scores are ratios whose denominators divide [`SCALE`], so
    /// `value × SCALE` is within a rounding error of an integer; rounding recovers it exactly.
    pub fn add_score(&mut self, s: &Score) {
        let scaled = s.value * SCALE as f64;
        if scaled.is_finite() && scaled.abs() < 1e15 {
            self.add_scaled(scaled.round() as i128);
        }
    }

    fn add_scaled(&mut self, x: i128) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    /// Combine with another part.
    pub fn merge(&mut self, o: &MeanAcc) {
        self.n += o.n;
        self.sum += o.sum;
        self.sum_sq += o.sum_sq;
    }

    /// The exact mean.
    pub fn mean(&self) -> Option<Ratio> {
        (self.n > 0).then(|| {
            // sum / (n·SCALE) may not fit i64 for huge n; reduce via f64-free integer steps.
            let den = self.n as i128 * SCALE;
            let g = crate::num::gcd(self.sum, den);
            Ratio::new((self.sum / g) as i64, (den / g) as i64)
        })
    }

    /// mean ± 1.96·s/√n with s the sample standard deviation; `None` for n < 2.
    pub fn interval(&self) -> Option<(f64, f64)> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as i128;
        // n·Σx² − (Σx)² is exact; one conversion, then only ÷ and √.
        let spread = (n * self.sum_sq - self.sum * self.sum).max(0) as f64;
        let scale = SCALE as f64;
        let var = spread / (n as f64 * (n - 1) as f64) / (scale * scale);
        let half = Z * (var / n as f64).sqrt();
        let mean = self.sum as f64 / (n as f64 * scale);
        Some((mean - half, mean + half))
    }
}

/// A proportion k of n, with the Wilson 95% interval.
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
        self.n += 1;
        self.k += u64::from(success);
    }

    /// Combine with another part.
    pub fn merge(&mut self, o: &Proportion) {
        self.k += o.k;
        self.n += o.n;
    }

    /// k / n × 100, exactly.
    pub fn percent(&self) -> Option<Ratio> {
        (self.n > 0).then(|| Ratio::new(self.k as i64 * 100, self.n as i64))
    }

    /// Wilson score interval, as percentages.
    pub fn wilson(&self) -> Option<(f64, f64)> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        let p = self.k as f64 / n;
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

/// Everything Chorus reports about one instrument's responses.
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
    /// Reported theme scores.
    pub score: MeanAcc,
    /// Statement answers that agree (agree or strongly agree) of those scored.
    pub agree: Proportion,
}

/// FFT answer ids in count order.
pub use crate::instrument::FFT_ANSWER_IDS;

impl InstrumentAggregate {
    /// Add one response's score report.
    pub fn add(&mut self, r: &ScoreReport) {
        self.responses += 1;
        if let Some(a) = r.fft.as_ref().and_then(|f| f.answer.as_deref())
            && let Some(i) = FFT_ANSWER_IDS.iter().position(|x| *x == a)
        {
            self.fft[i] += 1;
        }
        if let Some(s) = &r.i_statements {
            for st in &s.statements {
                if let Some(v) = st.score {
                    self.statements
                        .entry(st.item.clone())
                        .or_default()
                        .add(v >= 75);
                    self.themes
                        .entry(st.theme.clone())
                        .or_default()
                        .agree
                        .add(v >= 75);
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
            self.sure[usize::from(t.min(4))] += 1;
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
                k: u64::from(k.correct),
                n: u64::from(k.answered),
            });
        }
        if let Some(l) = &r.lean {
            *self
                .lean
                .entry(l.towards.clone().unwrap_or_default())
                .or_default() += 1;
        }
    }

    /// Combine with another part (another shard, day or service).
    pub fn merge(&mut self, o: &InstrumentAggregate) {
        self.responses += o.responses;
        for i in 0..6 {
            self.fft[i] += o.fft[i];
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
        for i in 0..5 {
            self.sure[i] += o.sure[i];
        }
        self.collaborate_top.merge(&o.collaborate_top);
        self.collaborate_mean.merge(&o.collaborate_mean);
        self.sdm_q_9.merge(&o.sdm_q_9);
        self.knowledge.merge(&o.knowledge);
        for (k, v) in &o.lean {
            *self.lean.entry(k.clone()).or_default() += v;
        }
    }

    /// FFT answers total (all six, don't know included).
    pub fn fft_total(&self) -> u64 {
        self.fft.iter().sum()
    }

    /// FFT % positive: (very good + good) / all × 100.
    pub fn fft_positive(&self) -> Proportion {
        Proportion {
            k: self.fft[0] + self.fft[1],
            n: self.fft_total(),
        }
    }

    /// FFT % negative: (poor + very poor) / all × 100.
    pub fn fft_negative(&self) -> Proportion {
        Proportion {
            k: self.fft[3] + self.fft[4],
            n: self.fft_total(),
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

    /// The FFT figures for publication, small numbers suppressed.
    pub fn fft_summary(&self) -> FftSummary {
        FftSummary {
            total: Pub::count(self.fft_total()),
            counts: FFT_ANSWER_IDS
                .iter()
                .zip(self.fft)
                .map(|(a, n)| ((*a).to_string(), Pub::count(n)))
                .collect(),
            positive: publish_percent(&self.fft_positive()),
            negative: publish_percent(&self.fft_negative()),
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

/// A published figure: the value, or `*` when suppressed.
#[derive(Clone, Debug, PartialEq)]
pub enum Pub<T> {
    /// Shown.
    Value(T),
    /// Suppressed (small numbers).
    Suppressed,
}

impl<T: Serialize> Serialize for Pub<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Pub::Value(v) => v.serialize(s),
            Pub::Suppressed => s.serialize_str("*"),
        }
    }
}

impl<T> Pub<T> {
    /// The value, if shown.
    pub fn value(&self) -> Option<&T> {
        match self {
            Pub::Value(v) => Some(v),
            Pub::Suppressed => None,
        }
    }
}

impl Pub<u64> {
    /// A count, suppressed below [`SUPPRESS_BELOW`].
    pub fn count(n: u64) -> Pub<u64> {
        if n < SUPPRESS_BELOW {
            Pub::Suppressed
        } else {
            Pub::Value(n)
        }
    }
}

/// A percentage with its Wilson interval, as published.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedPercent {
    /// k / n × 100.
    pub percent: Score,
    /// Wilson 95% lower bound, one decimal place.
    pub low: String,
    /// Wilson 95% upper bound, one decimal place.
    pub high: String,
}

/// Suppressed when its numerator or denominator is below [`SUPPRESS_BELOW`].
pub fn publish_percent(p: &Proportion) -> Pub<PublishedPercent> {
    match (p.percent(), p.wilson()) {
        (Some(pct), Some((lo, hi))) if p.k >= SUPPRESS_BELOW && p.n >= SUPPRESS_BELOW => {
            Pub::Value(PublishedPercent {
                percent: pct.into(),
                low: f64_display_1dp(lo),
                high: f64_display_1dp(hi),
            })
        }
        _ => Pub::Suppressed,
    }
}

/// A mean with its 95% interval, as published.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedMean {
    /// Values behind it.
    pub n: u64,
    /// The mean.
    pub mean: Score,
    /// Lower bound, one decimal place.
    pub low: String,
    /// Upper bound, one decimal place.
    pub high: String,
}

/// Suppressed when made from fewer than [`SUPPRESS_BELOW`] values.
pub fn publish_mean(m: &MeanAcc) -> Pub<PublishedMean> {
    match (m.mean(), m.interval()) {
        (Some(mean), Some((lo, hi))) if m.n >= SUPPRESS_BELOW => Pub::Value(PublishedMean {
            n: m.n,
            mean: mean.into(),
            low: f64_display_1dp(lo),
            high: f64_display_1dp(hi),
        }),
        _ => Pub::Suppressed,
    }
}

/// FFT figures for publication.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FftSummary {
    /// All responses.
    pub total: Pub<u64>,
    /// Per answer id, in the standard order.
    pub counts: Vec<(String, Pub<u64>)>,
    /// % positive.
    pub positive: Pub<PublishedPercent>,
    /// % negative.
    pub negative: Pub<PublishedPercent>,
}

/// One I Statement theme, as published.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThemeSummary {
    /// Mean theme score (0–100) with its 95% interval.
    pub score: Pub<PublishedMean>,
    /// % of statement answers that agree, with the Wilson interval.
    pub agree: Pub<PublishedPercent>,
}
