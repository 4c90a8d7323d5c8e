//! Lint: what a decision aid says, checked against the standards criteria one by one.

use super::*;

/// Stable lint codes (snake_case in JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LintCode {
    /// No option is marked as doing nothing or watchful waiting.
    NoWaitingOption,
    /// The grid has no benefits row, or no downsides row.
    MissingFeatures,
    /// One option's benefits or downsides have far fewer points or words than another's.
    UnequalDetail,
    /// An outcome does not name its source.
    MissingCitation,
    /// A chance written in the text: a percentage in words, a relative risk, a frequency.
    PercentageInText,
    /// A sentence above the reading-age target.
    ReadingAge,
    /// Past its review date.
    PastReview,
    /// Optional information missing (the update policy).
    MissingMetadata,
    /// A rate without its uncertainty range.
    NoUncertainty,
}

/// A warning against a criterion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lint {
    /// Stable code.
    pub code: LintCode,
    /// The criterion's id (see [`CRITERIA`]).
    pub criterion: &'static str,
    /// JSON path.
    pub path: String,
    /// A sentence for the author.
    pub message: String,
}

impl Lint {
    /// "IPDAS qualifying: Lists the options, …" for this lint's criterion.
    pub fn criterion_name(&self) -> String {
        criterion(self.criterion)
            .map(|c| format!("{}: {}", c.standard.name(), c.name))
            .unwrap_or_default()
    }
}

/// Detail is unequal when one option has less than this share of another's words on a
/// feature (benefits or downsides), or more than one point (sentence) fewer. Why one half:
/// cells are short, so a few words either way is noise; one option's downsides at half the
/// length of another's is what a reader notices as one option "sold" harder.
pub const UNEQUAL_RATIO: (u32, u32) = (1, 2);

/// Every English text of an aid a patient can see, with its JSON path.
pub fn texts<'a>(i: &'a Instrument, aid: &'a Aid) -> Vec<(String, &'a Text)> {
    let mut v: Vec<(String, &Text)> = vec![("$.title".into(), &i.title)];
    if let Some(t) = &i.intro {
        v.push(("$.intro".into(), t));
    }
    for (n, t) in i.themes.iter().enumerate() {
        v.push((format!("$.themes[{n}].title"), &t.title));
    }
    for (n, o) in i.options.iter().enumerate() {
        v.push((format!("$.options[{n}].text"), &o.text));
    }
    for (n, it) in i.items.iter().enumerate() {
        let at = format!("$.items[{n}]");
        v.push((format!("{at}.text"), &it.text));
        for (name, t) in [
            ("hint", &it.hint),
            ("min_label", &it.min_label),
            ("max_label", &it.max_label),
            ("explanation", &it.explanation),
        ] {
            if let Some(t) = t {
                v.push((format!("{at}.{name}"), t));
            }
        }
        for (k, o) in it.options.iter().enumerate() {
            v.push((format!("{at}.options[{k}].text"), &o.text));
        }
        for (r, row) in it.rows.iter().enumerate() {
            v.push((format!("{at}.rows[{r}].question"), &row.question));
            for (c, cell) in row.cells.iter().enumerate() {
                v.push((format!("{at}.rows[{r}].cells[{c}]"), cell));
            }
        }
        if let Some(o) = aid.outcome(&it.id) {
            v.push((format!("{at}.outcome.population"), &o.population));
        }
    }
    if let Some(a) = &aid.about {
        for (name, t) in [
            ("update_policy", &a.update_policy),
            ("funding", &a.funding),
            ("conflicts", &a.conflicts),
            ("not_for", &a.not_for),
        ] {
            if let Some(t) = t {
                v.push((format!("$.about.{name}"), t));
            }
        }
    }
    v
}

/// Chances written in words where a rate belongs: a percentage in words ("ten per cent"),
/// a relative risk ("twice as likely", "halves the risk"), a frequency ("1 in 5",
/// "3 out of 10"). Returns what was found.
pub fn chance_in_words(text: &str) -> Option<String> {
    let t = text.to_ascii_lowercase();
    for w in [
        "per cent",
        "percent",
        "times more likely",
        "times less likely",
        "times as likely",
        "twice as likely",
        "half as likely",
        "double the risk",
        "doubles the risk",
        "halves the risk",
        "half the risk",
        "risk by half",
    ] {
        if t.contains(w) {
            return Some(w.to_string());
        }
    }
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()) {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            for joint in [" in ", " out of ", " of every "] {
                let rest = &t[i..];
                if let Some(after) = rest.strip_prefix(joint)
                    && after.starts_with(|c: char| c.is_ascii_digit())
                {
                    let end =
                        i + joint.len() + after.bytes().take_while(u8::is_ascii_digit).count();
                    return Some(t[start..end].to_string());
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

pub(super) fn words(s: &str) -> u32 {
    s.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count() as u32
}

/// The standards' lints for an aid (`today` for the review date; without it, no review
/// lint). Reading age is checked on every instrument; the rest on decision aids only.
pub fn lint(i: &Instrument, aid: &Aid, today: Option<Date>) -> Vec<Lint> {
    let mut out = Vec::new();
    let mut add = |code, criterion, path: String, message: String| {
        out.push(Lint {
            code,
            criterion,
            path,
            message,
        })
    };
    let is_aid = i.scoring == Scoring::DecisionAid;
    for (path, t) in texts(i, aid) {
        let en = t.get(Locale::En);
        for s in readability::assess(en).above_target() {
            add(
                LintCode::ReadingAge,
                "nice-plain-language",
                format!("{path}.en"),
                format!(
                    "grade {:.1} (target {TARGET_GRADE}): \"{}\" — use shorter sentences and shorter words",
                    s.grade.unwrap_or(0.0),
                    s.text
                ),
            );
        }
        if is_aid {
            for l in Locale::ALL {
                if t.has(l)
                    && let Some(found) = chance_in_words(t.get(l))
                {
                    add(
                        LintCode::PercentageInText,
                        "ipdas-p-event-rates",
                        format!("{path}.{}", l.tag()),
                        format!(
                            "\"{found}\": give chances as an outcome's rates (out of 10, 100 or 1000 over a time frame), not in the text"
                        ),
                    );
                }
            }
        }
    }
    if !is_aid {
        return out;
    }
    if aid.waiting_options.is_empty() {
        add(
            LintCode::NoWaitingOption,
            "ipdas-q-options",
            "$.options".into(),
            "no option is marked \"watchful_waiting\": include doing nothing, waiting or active monitoring as an option, and mark it".into(),
        );
    }
    let grids: Vec<(usize, &crate::Item)> = i
        .items
        .iter()
        .enumerate()
        .filter(|(_, it)| it.kind == ItemKind::OptionGrid)
        .collect();
    for (feature, criterion, what) in [
        (Feature::Benefit, "ipdas-q-benefits", "benefit"),
        (Feature::Downside, "ipdas-q-downsides", "downside"),
    ] {
        let rows: Vec<(usize, &crate::instrument::GridRow)> = grids
            .iter()
            .flat_map(|(n, it)| {
                it.rows
                    .iter()
                    .filter(|r| aid.feature(&it.id, &r.id) == Some(feature))
                    .map(move |r| (*n, r))
            })
            .collect();
        if rows.is_empty() {
            add(
                LintCode::MissingFeatures,
                criterion,
                "$.items".into(),
                format!(
                    "no option-grid row is marked \"feature\": \"{what}\": give every option's {what}s in one row and mark it"
                ),
            );
            continue;
        }
        // Per option: points (sentences) and words across this feature's cells.
        let per: Vec<(u32, u32)> = (0..i.options.len())
            .map(|o| {
                rows.iter()
                    .filter_map(|(_, r)| r.cells.get(o))
                    .map(|c| {
                        let en = c.get(Locale::En);
                        (readability::sentences(en).len() as u32, words(en))
                    })
                    .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
            })
            .collect();
        let (most, least) = (
            per.iter().enumerate().max_by_key(|(_, p)| p.1),
            per.iter().enumerate().min_by_key(|(_, p)| p.1),
        );
        let (max_points, min_points) = (
            per.iter().map(|p| p.0).max().unwrap_or(0),
            per.iter().map(|p| p.0).min().unwrap_or(0),
        );
        if let (Some((hi, h)), Some((lo, l))) = (most, least) {
            let (a, b) = UNEQUAL_RATIO;
            if l.1 * b < h.1 * a || max_points > min_points + 1 {
                add(
                    LintCode::UnequalDetail,
                    "ipdas-c-equal-detail",
                    format!("$.items[{}].rows", rows[0].0),
                    format!(
                        "the {what}s of \"{}\" have {} words in {} points, those of \"{}\" {} in {}: give each option the same detail",
                        i.options[lo].id, l.1, l.0, i.options[hi].id, h.1, h.0
                    ),
                );
            }
        }
    }
    for (n, it) in i.items.iter().enumerate() {
        let Some(o) = aid.outcome(&it.id) else {
            continue;
        };
        let at = format!("$.items[{n}].outcome");
        if o.source.is_none() {
            add(
                LintCode::MissingCitation,
                "ipdas-c-citations",
                format!("{at}.source"),
                "the outcome does not name its source: give the id of a reference in about.references".into(),
            );
        }
        for (k, r) in o.rates.iter().enumerate() {
            if r.low.is_none() {
                add(
                    LintCode::NoUncertainty,
                    "ipdas-c-uncertainty",
                    format!("{at}.rates[{k}]"),
                    format!(
                        "the rate for \"{}\" has no range: give low and high, the numbers the evidence allows",
                        r.option
                    ),
                );
            }
            let f = framing(o, r, Locale::En);
            for s in [&f.with_event, &f.without_event] {
                for s in readability::assess(s).above_target() {
                    add(
                        LintCode::ReadingAge,
                        "nice-plain-language",
                        format!("{at}.event"),
                        format!(
                            "grade {:.1} (target {TARGET_GRADE}) in the words made from this outcome: \"{}\" — shorten the event",
                            s.grade.unwrap_or(0.0),
                            s.text
                        ),
                    );
                }
            }
        }
    }
    if let Some(a) = &aid.about {
        if a.update_policy.is_none() {
            add(
                LintCode::MissingMetadata,
                "ipdas-c-update",
                "$.about.update_policy".into(),
                "say how and when the aid is updated".into(),
            );
        }
        if let Some(today) = today
            && a.past_review(today)
        {
            add(
                LintCode::PastReview,
                "nice-in-date",
                "$.about.next_review".into(),
                format!(
                    "past its review date ({}): review the evidence, update the aid and set a new date",
                    a.next_review
                ),
            );
        }
    }
    out
}
