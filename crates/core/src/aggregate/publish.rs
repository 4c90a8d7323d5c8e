//! Figures for publication: suppressed, rounded, with their intervals.

use super::*;

/// A published figure: the value, or `*` when suppressed. A type rather than an `Option` so
/// a suppressed figure cannot be published by accident: it serialises as the string `"*"`.
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

/// A percentage for publication: suppressed when its numerator or its denominator is a count
/// below [`SUPPRESS_BELOW`] (the brief: a percentage made from a suppressed count is
/// suppressed too).
pub fn publish_percent(p: &Proportion) -> Pub<PublishedPercent> {
    match (p.percent(), p.wilson()) {
        (Some(percent), Some((lo, hi))) if p.k >= SUPPRESS_BELOW && p.n >= SUPPRESS_BELOW => {
            Pub::Value(PublishedPercent {
                percent,
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

/// A mean for publication: suppressed when made from fewer than [`SUPPRESS_BELOW`] values.
pub fn publish_mean(m: &MeanAcc) -> Pub<PublishedMean> {
    match (m.mean(), m.interval()) {
        (Some(mean), Some((lo, hi))) if m.n >= SUPPRESS_BELOW => Pub::Value(PublishedMean {
            n: m.n,
            mean,
            low: f64_display_1dp(lo),
            high: f64_display_1dp(hi),
        }),
        _ => Pub::Suppressed,
    }
}

/// FFT figures for publication (the shape of the NHS England monthly return: counts per
/// answer, % positive, % negative).
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

/// I Statement figures for publication: the brief's "mean with 95% interval, and % agreeing
/// with a Wilson 95% interval", for the overall score, each theme and each statement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IStatementSummary {
    /// Mean overall score with its interval.
    pub overall: Pub<PublishedMean>,
    /// Per theme id.
    pub themes: BTreeMap<String, ThemeSummary>,
    /// Per statement (item id): % agreeing, of those who gave a scored answer.
    pub statements: BTreeMap<String, Pub<PublishedPercent>>,
}

/// SURE figures for publication.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SureSummary {
    /// Respondents with a SURE total.
    pub scored: Pub<u64>,
    /// Respondents per total, 0 to 4.
    pub totals: Vec<Pub<u64>>,
    /// % screening positive for decisional conflict (total below 4).
    pub conflict: Pub<PublishedPercent>,
}

/// CollaboRATE figures for publication: the published instrument reports both.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CollaborateSummary {
    /// % of respondents with the top score (all three items 9).
    pub top_score: Pub<PublishedPercent>,
    /// Mean score (sum / 27 × 100) with its interval.
    pub mean_score: Pub<PublishedMean>,
}

/// Every publishable figure for one instrument's responses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Responses behind the figures.
    pub responses: Pub<u64>,
    /// Friends and Family Test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fft: Option<FftSummary>,
    /// I Statements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub i_statements: Option<IStatementSummary>,
    /// SURE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sure: Option<SureSummary>,
    /// CollaboRATE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collaborate: Option<CollaborateSummary>,
    /// SDM-Q-9 mean score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdm_q_9: Option<Pub<PublishedMean>>,
    /// Knowledge check: % of answered questions answered rightly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub knowledge: Option<Pub<PublishedPercent>>,
    /// Decision aid leans: respondents per option (key `""`: no clear lean).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lean: Option<Vec<(String, Pub<u64>)>>,
}
