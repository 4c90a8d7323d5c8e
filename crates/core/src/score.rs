//! The brief's scoring rules, exactly, behind one entry point: [`score`].
//!
//! Scores are computed from exact ratios ([`Ratio`]) and carried as [`Score`] (nearest `f64`
//! plus the half-to-even one-decimal display), so the report the widget shows and the report
//! the server stores are equal value for value.

use serde::{Deserialize, Serialize};

use crate::{
    instrument::{AGREEMENT_ANSWERS, Instrument, ItemKind, Scoring},
    num::{Ratio, Score},
    response::{Answer, Response},
};

/// Everything a response scores to. Sections not used by the instrument's rule are absent.
/// Serialisable and `PartialEq` because the widget sends its own report and the server
/// compares it with its re-score, value for value, to prove the two agree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    /// Instrument id.
    pub instrument: String,
    /// Instrument version.
    pub version: u32,
    /// Friends and Family Test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fft: Option<FftScore>,
    /// I Statements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub i_statements: Option<IStatementScore>,
    /// SURE test (alone, or inside a decision aid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sure: Option<SureScore>,
    /// CollaboRATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collaborate: Option<CollaborateScore>,
    /// SDM-Q-9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdm_q_9: Option<SdmQ9Score>,
    /// Decision aid knowledge check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge: Option<KnowledgeScore>,
    /// Decision aid values-clarification lean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lean: Option<LeanScore>,
}

/// FFT categories (the brief: positive = very good or good; negative = poor or very poor),
/// the grouping NHS England publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FftCategory {
    /// Very good, good.
    Positive,
    /// Neither good nor poor.
    Neutral,
    /// Poor, very poor.
    Negative,
    /// Don't know (counts in the denominator of the percentages).
    DontKnow,
}

/// The FFT answer and its category; absent answer → `None` fields. The answer is kept with
/// the category because the monthly return counts each of the six answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FftScore {
    /// The answer id.
    pub answer: Option<String>,
    /// Its category.
    pub category: Option<FftCategory>,
}

/// Category of an FFT answer id; `None` for anything else, so a bad id is never counted.
pub fn fft_category(answer: &str) -> Option<FftCategory> {
    crate::instrument::FFT_ANSWERS
        .iter()
        .find(|(id, _)| *id == answer)
        .map(|(_, c)| *c)
}

/// One statement: its agreement value × 25 (0–100, the brief's statement score), or `None`
/// for "does not apply" / unanswered, which the brief does not score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementScore {
    /// Item id.
    pub item: String,
    /// Theme id.
    pub theme: String,
    /// 0, 25, 50, 75 or 100.
    pub score: Option<u8>,
}

/// One theme: mean of its answered statements, reported only if at least half were answered
/// (the brief), so a theme is never represented by one statement out of many.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThemeScore {
    /// Theme id.
    pub theme: String,
    /// Statements answered with a scored value ("does not apply" is not one).
    pub answered: u32,
    /// Statements in the theme.
    pub statements: u32,
    /// The mean, or `None` when fewer than half were answered.
    pub score: Option<Score>,
}

/// I Statement scores at every level the brief defines: statement, theme and overall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IStatementScore {
    /// Per statement, in item order.
    pub statements: Vec<StatementScore>,
    /// Per theme, in theme order.
    pub themes: Vec<ThemeScore>,
    /// Mean of the reported theme scores; `None` if no theme is reported.
    pub overall: Option<Score>,
}

/// SURE: one point per yes; below 4 screens positive for decisional conflict, which is what a
/// clinician needs to know before the decision is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SureScore {
    /// 0–4, or `None` if any item is unanswered (a partial SURE is not scored).
    pub total: Option<u8>,
    /// `total < 4`.
    pub conflict: Option<bool>,
}

/// CollaboRATE (three items 0–9), with both published scorings: the top-score flag (the
/// recommended headline) and the mean.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollaborateScore {
    /// All three items 9.
    pub top_score: Option<bool>,
    /// sum / 27 × 100.
    pub mean_score: Option<Score>,
}

/// SDM-Q-9 (nine items 0–5), with the count answered so a report can say why a score is
/// missing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SdmQ9Score {
    /// Items answered.
    pub answered: u32,
    /// sum × 20 / 9; with one item missing the sum is the mean of the eight × 9; more missing
    /// → `None`.
    pub score: Option<Score>,
}

/// Knowledge check: how many right of those answered, and which were wrong, so the summary
/// can show those explanations first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeScore {
    /// Right answers.
    pub correct: u32,
    /// Questions answered.
    pub answered: u32,
    /// Questions in the check.
    pub questions: u32,
    /// Item ids answered wrongly, so the widget can show those explanations first.
    pub wrong: Vec<String>,
}

/// Values-clarification lean: lean_o = Σ w_c · s_{o,c}, in integers. Every option's lean
/// is kept, not just the winner, so the summary can show the patient how close it was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeanScore {
    /// Each option's lean, in option order.
    pub leans: Vec<OptionLean>,
    /// Σ w_c over answered considerations.
    pub total_weight: i64,
    /// The option the answers lean towards: only when it beats the next by at least 10% of
    /// Σ w_c; otherwise `None` ("no clear lean").
    pub towards: Option<String>,
}

/// One option's lean (named by option id so it survives reordering).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptionLean {
    /// Option id.
    pub option: String,
    /// Σ w_c · s_{o,c}.
    pub lean: i64,
}

/// Score a response by its instrument's rule: the one entry point, so the widget and the
/// server cannot apply different rules. Call [`crate::validate_response`] first: invalid
/// answers are ignored here (scored as unanswered) rather than trusted, and nothing panics.
pub fn score(instrument: &Instrument, response: &Response) -> ScoreReport {
    let mut report = ScoreReport {
        instrument: instrument.id.clone(),
        version: instrument.version,
        fft: None,
        i_statements: None,
        sure: None,
        collaborate: None,
        sdm_q_9: None,
        knowledge: None,
        lean: None,
    };
    let a = &response.answers;
    // Scale answers within the rule's own range (CollaboRATE 0–9, SDM-Q-9 0–5), whatever
    // the definition says: a score is only meaningful on the published scale, and this keeps
    // the arithmetic small on a definition that was never validated.
    let numbers = |max: i64| -> Vec<Option<i64>> {
        instrument
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::Scale)
            .map(|i| match a.get(&i.id) {
                Some(Answer::Number(n)) if (0..=max).contains(n) => Some(*n),
                _ => None,
            })
            .collect()
    };
    match instrument.scoring {
        Scoring::Fft => {
            let answer = instrument.fft_item().and_then(|i| match a.get(&i.id) {
                Some(Answer::Text(t)) => fft_category(t).map(|c| (t.clone(), c)),
                _ => None,
            });
            report.fft = Some(FftScore {
                category: answer.as_ref().map(|x| x.1),
                answer: answer.map(|x| x.0),
            });
        }
        Scoring::IStatements => report.i_statements = Some(i_statements(instrument, response)),
        Scoring::Sure => report.sure = Some(sure(instrument, response, |_| true)),
        Scoring::Collaborate => {
            let v = numbers(9);
            let all: Option<Vec<i64>> = v.into_iter().collect();
            report.collaborate = Some(match all {
                Some(v) if v.len() == 3 => CollaborateScore {
                    top_score: Some(v.iter().all(|&x| x == 9)),
                    mean_score: Some(Ratio::new(v.iter().sum::<i64>() * 100, 27).into()),
                },
                _ => CollaborateScore {
                    top_score: None,
                    mean_score: None,
                },
            });
        }
        Scoring::SdmQ9 => {
            let v = numbers(5);
            let answered: Vec<i64> = v.iter().flatten().copied().collect();
            let n = answered.len() as i64;
            let sum: i64 = answered.iter().sum();
            // Nine items or no score: the formula is only the published one for nine.
            let missing = if v.len() == 9 { 9 - n } else { i64::MAX };
            let score = match missing {
                // sum × 20 / 9
                0 => Some(Ratio::new(sum * 20, 9)),
                // (mean of the eight × 9) × 20 / 9 = sum × 20 / 8
                1 => Some(Ratio::new(sum * 9, n) * Ratio::new(20, 9)),
                _ => None,
            };
            report.sdm_q_9 = Some(SdmQ9Score {
                answered: n as u32,
                score: score.map(Score::from),
            });
        }
        Scoring::DecisionAid => {
            if instrument
                .items
                .iter()
                .any(|i| i.role.as_deref() == Some("sure"))
            {
                report.sure = Some(sure(instrument, response, |r| r == Some("sure")));
            }
            if instrument
                .items
                .iter()
                .any(|i| i.kind == ItemKind::Knowledge)
            {
                report.knowledge = Some(knowledge(instrument, response));
            }
            if instrument
                .items
                .iter()
                .any(|i| i.kind == ItemKind::Importance)
            {
                report.lean = Some(lean(instrument, response));
            }
        }
        Scoring::None => {}
    }
    report
}

fn agreement_value(answer: Option<&Answer>) -> Option<u8> {
    match answer {
        Some(Answer::Text(t)) => AGREEMENT_ANSWERS
            .iter()
            .find(|(k, _)| k == t)
            .and_then(|(_, v)| *v),
        _ => None,
    }
}

fn i_statements(instrument: &Instrument, response: &Response) -> IStatementScore {
    let statements: Vec<StatementScore> = instrument
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Agreement)
        .map(|i| StatementScore {
            item: i.id.clone(),
            theme: i.theme.clone().unwrap_or_default(),
            score: agreement_value(response.answers.get(&i.id)).map(|v| v * 25),
        })
        .collect();
    let mut themes = Vec::new();
    let mut overall_sum = Ratio::int(0);
    let mut reported = 0i64;
    for t in &instrument.themes {
        let in_theme: Vec<&StatementScore> =
            statements.iter().filter(|s| s.theme == t.id).collect();
        if in_theme.is_empty() {
            continue;
        }
        let answered: Vec<i64> = in_theme
            .iter()
            .filter_map(|s| s.score.map(i64::from))
            .collect();
        let (n, total) = (answered.len() as i64, in_theme.len() as i64);
        let score = (n > 0 && 2 * n >= total).then(|| Ratio::new(answered.iter().sum(), n));
        if let Some(s) = score {
            overall_sum = overall_sum + s;
            reported += 1;
        }
        themes.push(ThemeScore {
            theme: t.id.clone(),
            answered: n as u32,
            statements: total as u32,
            score: score.map(Score::from),
        });
    }
    IStatementScore {
        statements,
        themes,
        overall: (reported > 0).then(|| (overall_sum / Ratio::int(reported)).into()),
    }
}

fn sure(
    instrument: &Instrument,
    response: &Response,
    pick: impl Fn(Option<&str>) -> bool,
) -> SureScore {
    let answers: Option<Vec<bool>> = instrument
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::YesNo && pick(i.role.as_deref()))
        .map(|i| match response.answers.get(&i.id) {
            Some(Answer::Bool(b)) => Some(*b),
            _ => None,
        })
        .collect();
    let total = answers.map(|v| v.iter().filter(|&&b| b).count() as u8);
    SureScore {
        total,
        conflict: total.map(|t| t < 4),
    }
}

fn knowledge(instrument: &Instrument, response: &Response) -> KnowledgeScore {
    let mut k = KnowledgeScore {
        correct: 0,
        answered: 0,
        questions: 0,
        wrong: Vec::new(),
    };
    for i in instrument
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Knowledge)
    {
        k.questions += 1;
        if let Some(Answer::Text(t)) = response.answers.get(&i.id) {
            if !i.options.iter().any(|o| &o.id == t) {
                continue;
            }
            k.answered += 1;
            if i.answer.as_deref() == Some(t) {
                k.correct += 1;
            } else {
                k.wrong.push(i.id.clone());
            }
        }
    }
    k
}

fn lean(instrument: &Instrument, response: &Response) -> LeanScore {
    // A list, not a map (two to four options; every map or sort type instantiated here
    // costs the widget's bundle kilobytes). A repeated id reads and adds to its first entry.
    let mut leans: Vec<(&str, i64)> = Vec::new();
    for o in &instrument.options {
        leans.push((o.id.as_str(), 0));
    }
    let mut total_weight = 0i64;
    for i in instrument
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Importance)
    {
        let Some(Answer::Number(w)) = response.answers.get(&i.id) else {
            continue;
        };
        if !(0..=10).contains(w) {
            continue;
        }
        total_weight += w;
        for (o, s) in &i.stances {
            if let Some(l) = leans.iter_mut().find(|l| l.0 == o) {
                l.1 += w * i64::from(*s);
            }
        }
    }
    let ordered: Vec<OptionLean> = instrument
        .options
        .iter()
        .map(|o| OptionLean {
            option: o.id.clone(),
            lean: leans.iter().find(|l| l.0 == o.id).map_or(0, |l| l.1),
        })
        .collect();
    // The largest lean (the first option among equals) and the next largest, in one pass (no
    // sort: see above).
    let (mut best, mut next): (Option<&OptionLean>, Option<&OptionLean>) = (None, None);
    for l in &ordered {
        if best.is_none_or(|b| l.lean > b.lean) {
            next = best;
            best = Some(l);
        } else if next.is_none_or(|n| l.lean > n.lean) {
            next = Some(l);
        }
    }
    // Beats the next by at least 10% of Σw: 10 × (best − next) ≥ Σw, with Σw > 0 so that a
    // patient who said nothing matters is never told they lean anywhere.
    let towards = match (best, next) {
        (Some(best), Some(next))
            if total_weight > 0 && 10 * (best.lean - next.lean) >= total_weight =>
        {
            Some(best.option.clone())
        }
        _ => None,
    };
    LeanScore {
        leans: ordered,
        total_weight,
        towards,
    }
}
