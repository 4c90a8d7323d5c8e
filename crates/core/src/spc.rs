//! Statistical process control as NHS boards read it ("Making Data Count"): an XmR chart of a
//! monthly measure (FFT % positive, a theme score…) with its mean, process limits worked out
//! from a baseline the user picks, the four special-cause rules, and the variation and assurance
//! verdicts that the familiar icons stand for — in words too, so a screen reader and a printed
//! board paper say the same as the chart.
//!
//! The arithmetic is fixed here, in this order, so the dashboard, the exports and any other
//! client get the same limits and flags to the bit (only `+ − × ÷` on `f64`, which IEEE 754
//! defines exactly on every target; sums run in index order):
//!
//! - `mean` = (x₀ + x₁ + … + x_{n−1}) ÷ n over the baseline's n points;
//! - moving ranges |xᵢ − xᵢ₋₁| for i = 1…n−1 of the baseline, `mr_mean` = their sum ÷ (n − 1);
//! - process limits `mean ± 2.66 × mr_mean` (2.66 = 3 ÷ 1.128, the XmR constant for three
//!   sigma); the "near a limit" lines `mean ± 2.66 × mr_mean × 2 ÷ 3` (two sigma).
//!
//! The rules, applied to every point (baseline or not) against those lines:
//!
//! - **astronomical**: a point above the upper or below the lower process limit;
//! - **shift**: a run of at least [`Options::shift`] (default 7) consecutive points all strictly
//!   above, or all strictly below, the mean (a point on the mean ends a run); every point of the
//!   run is flagged;
//! - **trend**: at least [`Options::trend`] (default 7) consecutive points each strictly higher
//!   (or each strictly lower) than the one before; every point of the run is flagged;
//! - **two of three**: in any three consecutive points, two or more beyond the same "near" line
//!   (strictly above the upper or strictly below the lower); those points are flagged.
//!
//! A flagged point is high or low (above or below the mean; a rising trend is high). With an
//! improvement direction, the latest point's variation is improvement or concern; without one it
//! is special cause "neither". With a target, assurance is "consistently passes" when the target
//! lies beyond the limit on the failing side (every point expected to pass), "consistently
//! fails" when beyond the limit on the passing side, and "hit and miss" between the limits.
//! The guidance wants at least 15 points for stable limits; fewer are allowed and flagged.

use serde::{Deserialize, Serialize};

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher values are better (FFT % positive).
    Higher,
    /// Lower values are better (FFT % negative).
    Lower,
}

/// What to chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// Points from the start that set the mean and limits; 0 means all.
    pub baseline: usize,
    /// Which way is improvement, if either.
    pub direction: Option<Direction>,
    /// A target to assure against, if any.
    pub target: Option<f64>,
    /// Points in a run on one side of the mean that make a shift.
    pub shift: usize,
    /// Points each above (or below) the one before that make a trend.
    pub trend: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            baseline: 0,
            direction: None,
            target: None,
            shift: 7,
            trend: 7,
        }
    }
}

/// Which rules a point breaks, and on which side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    /// Beyond a process limit.
    pub astronomical: bool,
    /// Part of a shift.
    pub shift: bool,
    /// Part of a trend.
    pub trend: bool,
    /// Part of two of three near a limit.
    pub two_of_three: bool,
    /// The side of the mean the flags point to: `Some(true)` high, `Some(false)` low, `None`
    /// when no rule is broken.
    pub high: Option<bool>,
}

impl Flags {
    /// Does any rule flag this point?
    pub fn special(&self) -> bool {
        self.astronomical || self.shift || self.trend || self.two_of_three
    }
}

/// The variation icon's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variation {
    /// Common cause: no rule flags the latest point.
    CommonCause,
    /// Special cause pointing the better way.
    Improvement,
    /// Special cause pointing the worse way.
    Concern,
    /// Special cause with no direction given.
    Neither,
}

/// The assurance icon's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assurance {
    /// The target lies beyond the failing limit: the process will consistently pass.
    Pass,
    /// The target lies beyond the passing limit: the process will consistently fail.
    Fail,
    /// The target lies within the limits: it will be hit and missed at random.
    HitAndMiss,
}

/// An XmR chart with its verdicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// Points the limits were worked out from.
    pub baseline: usize,
    /// Mean of the baseline.
    pub mean: f64,
    /// Mean moving range of the baseline.
    pub mr_mean: f64,
    /// Upper process limit.
    pub upper: f64,
    /// Lower process limit.
    pub lower: f64,
    /// Upper "near a limit" line (two sigma).
    pub near_upper: f64,
    /// Lower "near a limit" line.
    pub near_lower: f64,
    /// The rules each point breaks.
    pub points: Vec<Flags>,
    /// The latest point's variation.
    pub variation: Variation,
    /// Against the target, if one was given with a direction.
    pub assurance: Option<Assurance>,
    /// Fewer than 15 baseline points: limits may move as data arrive.
    pub few_points: bool,
}

/// The chart of `values` (in time order), or `None` with fewer than two baseline points or a
/// value that is not a finite number.
pub fn xmr(values: &[f64], opts: &Options) -> Option<Chart> {
    if values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = if opts.baseline == 0 {
        values.len()
    } else {
        opts.baseline.min(values.len())
    };
    if n < 2 {
        return None;
    }
    let base = &values[..n];
    let mut sum = 0.0;
    for &v in base {
        sum += v;
    }
    let mean = sum / n as f64;
    let mut mr = 0.0;
    for w in base.windows(2) {
        mr += abs(w[1] - w[0]);
    }
    let mr_mean = mr / (n - 1) as f64;
    let spread = 2.66 * mr_mean;
    let near = spread * 2.0 / 3.0;
    let (upper, lower) = (mean + spread, mean - spread);
    let (near_upper, near_lower) = (mean + near, mean - near);

    let mut points = vec![Flags::default(); values.len()];
    let mark = |p: &mut Flags, high: bool| {
        // The first rule's side stands; rules rarely disagree, and when they do the point
        // beyond a limit speaks loudest (it is applied first).
        p.high.get_or_insert(high);
    };
    for (i, &v) in values.iter().enumerate() {
        if v > upper || v < lower {
            points[i].astronomical = true;
            mark(&mut points[i], v > upper);
        }
    }
    // Shifts: maximal runs strictly on one side.
    let side = |v: f64| -> Option<bool> {
        if v > mean {
            Some(true)
        } else if v < mean {
            Some(false)
        } else {
            None
        }
    };
    let mut start = 0;
    while start < values.len() {
        let s = side(values[start]);
        let mut end = start + 1;
        while end < values.len() && s.is_some() && side(values[end]) == s {
            end += 1;
        }
        if let Some(high) = s
            && end - start >= opts.shift.max(1)
        {
            for p in &mut points[start..end] {
                p.shift = true;
                mark(p, high);
            }
        }
        start = end;
    }
    // Trends: maximal runs of strict rises (or falls).
    for rising in [true, false] {
        let mut start = 0;
        while start < values.len() {
            let mut end = start + 1;
            while end < values.len()
                && if rising {
                    values[end] > values[end - 1]
                } else {
                    values[end] < values[end - 1]
                }
            {
                end += 1;
            }
            if end - start >= opts.trend.max(2) {
                for p in &mut points[start..end] {
                    p.trend = true;
                    mark(p, rising);
                }
            }
            // The point that ended the run cannot join a run with the one before it.
            start = end;
        }
    }
    // Two of three beyond the same near line.
    for w in 0..values.len().saturating_sub(2) {
        for high in [true, false] {
            let beyond = |v: f64| if high { v > near_upper } else { v < near_lower };
            let hits = (w..w + 3).filter(|&i| beyond(values[i])).count();
            if hits >= 2 {
                for i in w..w + 3 {
                    if beyond(values[i]) {
                        points[i].two_of_three = true;
                        mark(&mut points[i], high);
                    }
                }
            }
        }
    }

    let variation = match points.last() {
        Some(p) if p.special() => match (opts.direction, p.high) {
            (Some(Direction::Higher), Some(true)) | (Some(Direction::Lower), Some(false)) => {
                Variation::Improvement
            }
            (Some(_), _) => Variation::Concern,
            (None, _) => Variation::Neither,
        },
        _ => Variation::CommonCause,
    };
    let assurance = match (opts.direction, opts.target) {
        (Some(d), Some(t)) if t.is_finite() => Some(match d {
            Direction::Higher if t < lower => Assurance::Pass,
            Direction::Higher if t > upper => Assurance::Fail,
            Direction::Lower if t > upper => Assurance::Pass,
            Direction::Lower if t < lower => Assurance::Fail,
            _ => Assurance::HitAndMiss,
        }),
        _ => None,
    };
    Some(Chart {
        baseline: n,
        mean,
        mr_mean,
        upper,
        lower,
        near_upper,
        near_lower,
        points,
        variation,
        assurance,
        few_points: n < 15,
    })
}

/// `|x|` without a platform call (exact: a sign flip).
fn abs(x: f64) -> f64 {
    if x < 0.0 { -x } else { x }
}

impl Variation {
    /// What the variation icon says, in words (English; the dashboard is English only).
    pub fn words(self, direction: Option<Direction>) -> &'static str {
        match (self, direction) {
            (Variation::CommonCause, _) => {
                "Common cause variation: no significant change; the latest point is within what the process normally does."
            }
            (Variation::Improvement, Some(Direction::Higher)) => {
                "Special cause variation of an improving nature: the measure has gone significantly higher."
            }
            (Variation::Improvement, _) => {
                "Special cause variation of an improving nature: the measure has gone significantly lower."
            }
            (Variation::Concern, Some(Direction::Higher)) => {
                "Special cause variation of a concerning nature: the measure has gone significantly lower."
            }
            (Variation::Concern, _) => {
                "Special cause variation of a concerning nature: the measure has gone significantly higher."
            }
            (Variation::Neither, _) => {
                "Special cause variation: a significant change, with no direction set as better."
            }
        }
    }
}

impl Assurance {
    /// What the assurance icon says, in words.
    pub fn words(self) -> &'static str {
        match self {
            Assurance::Pass => "The process will consistently meet the target.",
            Assurance::Fail => {
                "The process will consistently miss the target unless something changes."
            }
            Assurance::HitAndMiss => {
                "The target lies within the process limits: it will be met and missed at random."
            }
        }
    }
}
