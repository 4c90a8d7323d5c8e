//! The self-assessment against the standards, and the check of a definition file.

use super::*;

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
pub(super) fn problem_criterion(p: &DefinitionProblem) -> Option<&'static str> {
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
