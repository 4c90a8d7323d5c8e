//! The standards a decision aid is held to, as lints and a self-assessment (feature
//! `authoring`; `chorus check` prints them). The criteria are those of the IPDAS minimum
//! standards (qualifying, certification, and the probability criteria for aids that give
//! outcome chances) and of NICE NG197 (shared decision making) with its standards framework
//! for shared decision making support tools, named in words here ([`CRITERIA`]).
//!
//! A lint is a warning with the criterion it serves; definition problems
//! ([`crate::aid::load`]) are errors and come first. Some criteria a program can check (an
//! option for watchful waiting is marked, each rate has a range); others only a person can
//! judge (whether the aid describes what the outcomes feel like): the self-assessment says
//! which is which, so a clinical safety officer signs off exactly the rest.
//!
//! The "equal detail" and reading-age checks are heuristics (see [`UNEQUAL_RATIO`] and
//! [`crate::readability`]): they point an author at a place to look, they do not prove the
//! criterion met, and the self-assessment says so.

use serde::Serialize;

use crate::{
    Instrument, ItemKind, Locale, Scoring, Text,
    aid::{Aid, Date, Feature, framing},
    instrument::DefinitionProblem,
    readability::{self, TARGET_GRADE},
};

/// Which standard a criterion is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standard {
    /// IPDAS minimum standards: qualifying criteria (what makes it a decision aid at all).
    IpdasQualifying,
    /// IPDAS minimum standards: certification criteria.
    IpdasCertification,
    /// IPDAS minimum standards: criteria for aids that give outcome probabilities.
    IpdasProbabilities,
    /// NICE NG197 and its standards framework for shared decision making support tools.
    NiceNg197,
}

impl Standard {
    /// Its name in words.
    pub fn name(self) -> &'static str {
        match self {
            Standard::IpdasQualifying => "IPDAS qualifying",
            Standard::IpdasCertification => "IPDAS certification",
            Standard::IpdasProbabilities => "IPDAS probabilities",
            Standard::NiceNg197 => "NICE NG197",
        }
    }
}

/// One criterion: a stable id, its standard, what it asks, and whether Chorus checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Criterion {
    /// Stable id, e.g. `ipdas-q-options`.
    pub id: &'static str,
    /// Its standard.
    pub standard: Standard,
    /// What it asks, in words.
    pub name: &'static str,
    /// `true`: the lints decide it; `false`: a person signs it off (see `check`).
    pub automatic: bool,
    /// How Chorus checks it, or what the person checks.
    pub check: &'static str,
}

const fn c(
    id: &'static str,
    standard: Standard,
    name: &'static str,
    automatic: bool,
    check: &'static str,
) -> Criterion {
    Criterion {
        id,
        standard,
        name,
        automatic,
        check,
    }
}

use Standard::{
    IpdasCertification as Cert, IpdasProbabilities as Prob, IpdasQualifying as Qual,
    NiceNg197 as Nice,
};

/// Every criterion, in the order the self-assessment lists them.
pub const CRITERIA: [Criterion; 19] = [
    c(
        "ipdas-q-condition",
        Qual,
        "Describes the health condition or problem",
        false,
        "Read the introduction: does it say what the condition is, in plain words?",
    ),
    c(
        "ipdas-q-decision",
        Qual,
        "States the decision to be made",
        false,
        "Read the title and introduction: is the decision named?",
    ),
    c(
        "ipdas-q-options",
        Qual,
        "Lists the options, including doing nothing or watchful waiting",
        true,
        "An option is marked `watchful_waiting` (doing nothing, waiting or active monitoring).",
    ),
    c(
        "ipdas-q-benefits",
        Qual,
        "Gives the positive features of each option",
        true,
        "The option grid has a row marked `\"feature\": \"benefit\"`.",
    ),
    c(
        "ipdas-q-downsides",
        Qual,
        "Gives the negative features of each option",
        true,
        "The option grid has a row marked `\"feature\": \"downside\"`.",
    ),
    c(
        "ipdas-q-experience",
        Qual,
        "Describes what it is like to experience the outcomes",
        false,
        "Read the grid and outcomes: do they say what living with each outcome is like (physical, emotional, social)?",
    ),
    c(
        "ipdas-c-equal-detail",
        Cert,
        "Shows positive and negative features with equal detail",
        true,
        "Benefits and downsides have about the same number of points and words for every option (a heuristic: also read them side by side).",
    ),
    c(
        "ipdas-c-citations",
        Cert,
        "Cites the evidence",
        true,
        "Every reference has a link or identifier, and every outcome names its source.",
    ),
    c(
        "ipdas-c-date",
        Cert,
        "Gives the date it was produced",
        true,
        "`about.produced` is a date.",
    ),
    c(
        "ipdas-c-update",
        Cert,
        "Describes its update policy",
        true,
        "`about.update_policy` is written and the review date has not passed.",
    ),
    c(
        "ipdas-c-uncertainty",
        Cert,
        "Describes the uncertainty around the outcome probabilities",
        true,
        "Every rate has a range (`low`, `high`).",
    ),
    c(
        "ipdas-c-funding",
        Cert,
        "States its funding and any conflicts of interest",
        true,
        "`about.funding` and `about.conflicts` are written.",
    ),
    c(
        "ipdas-p-reference-class",
        Prob,
        "Says which group of people the numbers are for",
        true,
        "Every outcome names its population.",
    ),
    c(
        "ipdas-p-event-rates",
        Prob,
        "Gives event rates as natural frequencies over a stated time",
        true,
        "Chances are outcome rates out of 10, 100 or 1000 over a time frame; no percentage, relative risk or frequency is written in the text.",
    ),
    c(
        "ipdas-p-same-scale",
        Prob,
        "Compares options with the same denominator and time frame",
        true,
        "The definition refuses an outcome whose options use different denominators or time frames.",
    ),
    c(
        "ipdas-p-framing",
        Prob,
        "Frames chances both ways (the event, and no event)",
        true,
        "Chorus writes both framings for every rate (\"12 out of 100 people have …; 88 out of 100 people do not\").",
    ),
    c(
        "ipdas-p-views",
        Prob,
        "Shows the numbers in more than one way (words and an icon array)",
        false,
        "Look at the aid as a patient sees it: is each rate shown in words and as an icon array?",
    ),
    c(
        "nice-plain-language",
        Nice,
        "Uses plain language (reading age about 9 to 11, grade 8 or below)",
        true,
        "No English sentence of five or more words has a Flesch–Kincaid grade above 8 (Welsh: a fluent reader checks).",
    ),
    c(
        "nice-in-date",
        Nice,
        "Is in date, and says what it is not",
        true,
        "The review date has not passed and `about.not_for` is written.",
    ),
];

/// The criterion with this id.
pub fn criterion(id: &str) -> Option<&'static Criterion> {
    CRITERIA.iter().find(|c| c.id == id)
}

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

fn words(s: &str) -> u32 {
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

/// A criterion's verdict in the self-assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Checked by Chorus and met.
    Met,
    /// Checked by Chorus and not met (see the lints or problems).
    NotMet,
    /// A person must judge it and sign it off.
    SignOff,
    /// Does not apply (probability criteria for an aid without outcome chances; a person
    /// confirms that it should give none).
    NotApplicable,
}

impl Status {
    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            Status::Met => "met (checked automatically)",
            Status::NotMet => "NOT MET",
            Status::SignOff => "needs a person's sign-off",
            Status::NotApplicable => "not applicable (no outcome chances; confirm none are needed)",
        }
    }
}

/// One row of the self-assessment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessed {
    /// The criterion.
    pub criterion: Criterion,
    /// Its verdict.
    pub status: Status,
    /// The lints and problems behind a "not met", by path.
    pub findings: Vec<String>,
}

/// The IPDAS / NICE self-assessment of one aid: data, with Markdown and plain-text forms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SelfAssessment {
    /// The aid's id.
    pub instrument: String,
    /// Its version.
    pub version: u32,
    /// One row per criterion, in [`CRITERIA`] order.
    pub criteria: Vec<Assessed>,
}

/// Which definition problems count against which criterion (the rest are not standards).
fn problem_criterion(p: &DefinitionProblem) -> Option<&'static str> {
    use crate::DefinitionCode as D;
    Some(match p.code {
        D::MixedDenominators | D::MixedTimeFrames => "ipdas-p-same-scale",
        D::PercentageInText | D::InvalidRate | D::RateAboveDenominator | D::MissingRate => {
            "ipdas-p-event-rates"
        }
        D::MissingLink | D::UnknownReference => "ipdas-c-citations",
        D::InvalidDate if p.path.ends_with("produced") => "ipdas-c-date",
        D::InvalidDate => "ipdas-c-update",
        D::MissingMetadata => match p.path.as_str() {
            "$.about.authors" | "$.about.references" => "ipdas-c-citations",
            "$.about.produced" => "ipdas-c-date",
            "$.about.next_review" => "ipdas-c-update",
            "$.about.funding" | "$.about.conflicts" => "ipdas-c-funding",
            "$.about.not_for" => "nice-in-date",
            _ => "ipdas-c-funding",
        },
        _ => return None,
    })
}

/// The self-assessment from the problems and lints of one aid.
pub fn self_assessment(
    i: &Instrument,
    aid: &Aid,
    problems: &[DefinitionProblem],
    lints: &[Lint],
) -> SelfAssessment {
    let has_outcomes = !aid.outcomes.is_empty();
    let criteria = CRITERIA
        .iter()
        .map(|c| {
            let mut findings: Vec<String> = problems
                .iter()
                .filter(|p| problem_criterion(p) == Some(c.id))
                .map(|p| format!("{} {}", p.path, p.message))
                .collect();
            // "$.about" missing takes every metadata criterion with it.
            if problems.iter().any(|p| p.path == "$.about")
                && matches!(
                    c.id,
                    "ipdas-c-citations"
                        | "ipdas-c-date"
                        | "ipdas-c-update"
                        | "ipdas-c-funding"
                        | "nice-in-date"
                )
            {
                findings.push("$.about is missing".into());
            }
            findings.extend(
                lints
                    .iter()
                    .filter(|l| l.criterion == c.id)
                    .map(|l| format!("{} {}", l.path, l.message)),
            );
            let probability =
                c.standard == Standard::IpdasProbabilities || c.id == "ipdas-c-uncertainty";
            let status = if probability && !has_outcomes {
                Status::NotApplicable
            } else if !c.automatic {
                Status::SignOff
            } else if findings.is_empty() {
                Status::Met
            } else {
                Status::NotMet
            };
            Assessed {
                criterion: *c,
                status,
                findings,
            }
        })
        .collect();
    SelfAssessment {
        instrument: i.id.clone(),
        version: i.version,
        criteria,
    }
}

impl SelfAssessment {
    /// Counts of (met, not met, sign-off, not applicable).
    pub fn tally(&self) -> (usize, usize, usize, usize) {
        let n = |s| self.criteria.iter().filter(|a| a.status == s).count();
        (
            n(Status::Met),
            n(Status::NotMet),
            n(Status::SignOff),
            n(Status::NotApplicable),
        )
    }

    /// As Markdown: a table per standard, then what a person must sign off.
    pub fn markdown(&self) -> String {
        let (met, not, sign, na) = self.tally();
        let mut s = format!(
            "# Self-assessment: {} (version {})\n\nIPDAS minimum standards and NICE NG197. Met automatically: {met}; not met: {not}; for a person to sign off: {sign}; not applicable: {na}.\n",
            self.instrument, self.version
        );
        let mut current = None;
        for a in &self.criteria {
            if current != Some(a.criterion.standard) {
                current = Some(a.criterion.standard);
                s += &format!(
                    "\n## {}\n\n| Criterion | Status | How it is checked |\n| --- | --- | --- |\n",
                    a.criterion.standard.name()
                );
            }
            s += &format!(
                "| {} | {} | {} |\n",
                a.criterion.name,
                a.status.words(),
                a.criterion.check.replace('|', "\\|")
            );
        }
        let open: Vec<&Assessed> = self
            .criteria
            .iter()
            .filter(|a| a.status == Status::NotMet)
            .collect();
        if !open.is_empty() {
            s += "\n## To fix\n\n";
            for a in open {
                for f in &a.findings {
                    s += &format!("- {}: {f}\n", a.criterion.name);
                }
            }
        }
        s += "\n## Sign-off\n\nChecked by (name, role, date): \n";
        s
    }

    /// As plain text, one line per criterion.
    pub fn plain(&self) -> String {
        let (met, not, sign, na) = self.tally();
        let mut s = format!(
            "Self-assessment: {} (version {}): {met} met, {not} not met, {sign} for sign-off, {na} not applicable\n",
            self.instrument, self.version
        );
        for a in &self.criteria {
            s += &format!(
                "  [{}] {}: {} — {}\n",
                a.criterion.id,
                a.criterion.standard.name(),
                a.criterion.name,
                a.status.words()
            );
            for f in &a.findings {
                s += &format!("      {f}\n");
            }
        }
        s
    }
}

/// Everything `chorus check` reports for one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// Definition problems (errors).
    pub problems: Vec<DefinitionProblem>,
    /// Standards lints (warnings); empty when the file does not parse.
    pub lints: Vec<Lint>,
    /// The self-assessment of a decision aid whose file parses.
    pub assessment: Option<SelfAssessment>,
}

/// Check one instrument file: definition problems, lints and (for a decision aid) the
/// self-assessment. `today` enables the review-date lint.
pub fn check(json: &str, today: Option<Date>) -> Check {
    match crate::aid::parse(json) {
        Err(problems) => Check {
            problems,
            lints: vec![],
            assessment: None,
        },
        Ok((i, aid)) => {
            let mut problems = i.validate();
            problems.extend(aid.validate(&i));
            let lints = lint(&i, &aid, today);
            let assessment = (i.scoring == Scoring::DecisionAid)
                .then(|| self_assessment(&i, &aid, &problems, &lints));
            Check {
                problems,
                lints,
                assessment,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_ids_are_unique_and_each_lint_names_one() {
        for (n, c) in CRITERIA.iter().enumerate() {
            assert!(CRITERIA[..n].iter().all(|d| d.id != c.id), "{}", c.id);
        }
        assert!(CRITERIA.iter().any(|c| !c.automatic));
    }

    #[test]
    fn chances_in_words_are_found() {
        for (t, found) in [
            ("About ten per cent of people", Some("per cent")),
            (
                "Tablets make a stroke twice as likely",
                Some("twice as likely"),
            ),
            ("It affects 1 in 5 people", Some("1 in 5")),
            ("3 out of 10 people feel better", Some("3 out of 10")),
            ("Take 2 tablets in 3 days", None),
            ("Most people feel better in 2 weeks", None),
            ("You can stop at any time", None),
        ] {
            assert_eq!(chance_in_words(t).as_deref(), found, "{t}");
        }
    }
}
