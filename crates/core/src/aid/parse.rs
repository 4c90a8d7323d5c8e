//! Reading and validating a decision aid definition file.

use super::*;

#[derive(Deserialize)]
pub(super) struct RawAid {
    #[serde(default)]
    about: Option<About>,
    #[serde(default)]
    options: Vec<RawOption>,
    #[serde(default)]
    items: Vec<RawItem>,
}

#[derive(Deserialize)]
pub(super) struct RawOption {
    #[serde(default)]
    id: String,
    #[serde(default)]
    watchful_waiting: bool,
}

#[derive(Deserialize)]
pub(super) struct RawItem {
    #[serde(default)]
    id: String,
    #[serde(default)]
    outcome: Option<Outcome>,
    #[serde(default)]
    rows: Vec<RawRow>,
}

#[derive(Deserialize)]
pub(super) struct RawRow {
    #[serde(default)]
    id: String,
    #[serde(default)]
    feature: Option<Feature>,
}

pub(super) fn invalid_json(e: serde_json::Error) -> Vec<DefinitionProblem> {
    vec![DefinitionProblem {
        path: "$".into(),
        code: DefinitionCode::InvalidJson,
        message: e.to_string(),
    }]
}

/// Parse a whole instrument file into its instrument and aid parts, checking only its shape
/// (an authoring tool lints a file that still has definition problems).
pub fn parse(json: &str) -> Result<(Instrument, Aid), Vec<DefinitionProblem>> {
    let instrument: Instrument = serde_json::from_str(json).map_err(invalid_json)?;
    let raw: RawAid = serde_json::from_str(json).map_err(invalid_json)?;
    let mut aid = Aid {
        about: raw.about,
        ..Aid::default()
    };
    aid.waiting_options = raw
        .options
        .into_iter()
        .filter(|o| o.watchful_waiting)
        .map(|o| o.id)
        .collect();
    for item in raw.items {
        for row in item.rows {
            if let Some(f) = row.feature {
                aid.features.push((item.id.clone(), row.id, f));
            }
        }
        if let Some(o) = item.outcome {
            aid.outcomes.insert(item.id, o);
        }
    }
    Ok((instrument, aid))
}

/// Parse a whole instrument file and check it: every definition problem of the instrument
/// ([`Instrument::validate`]) and of its aid parts ([`Aid::validate`]), in one list.
pub fn load(json: &str) -> Result<(Instrument, Aid), Vec<DefinitionProblem>> {
    let (instrument, aid) = parse(json)?;
    let mut problems = instrument.validate();
    problems.extend(aid.validate(&instrument));
    if problems.is_empty() {
        Ok((instrument, aid))
    } else {
        Err(problems)
    }
}

/// Every definition problem of a whole instrument file (empty when it is valid).
pub fn problems(json: &str) -> Vec<DefinitionProblem> {
    load(json).err().unwrap_or_default()
}

impl Aid {
    /// Every problem in the aid parts of `instrument` (empty when valid).
    pub fn validate(&self, instrument: &Instrument) -> Vec<DefinitionProblem> {
        let mut p = Problems(
            Vec::new(),
            instrument.scoring == crate::Scoring::DecisionAid,
        );
        let options: Vec<&str> = instrument.options.iter().map(|o| o.id.as_str()).collect();
        let references: Vec<&str> = self
            .about
            .iter()
            .flat_map(|a| a.references.iter().map(|r| r.id.as_str()))
            .collect();
        match &self.about {
            None if p.1 => p.add(
                "$.about",
                DefinitionCode::MissingMetadata,
                "a decision aid needs `about`: its authors, date produced, next review date, funding, conflicts of interest, references and what the aid is not",
            ),
            None => {}
            Some(a) => validate_about(&mut p, a),
        }
        for (n, item) in instrument.items.iter().enumerate() {
            let at = format!("$.items[{n}]");
            if item.kind == ItemKind::Outcome {
                match self.outcomes.get(&item.id) {
                    None => p.add(
                        &format!("{at}.outcome"),
                        DefinitionCode::MissingRate,
                        "an outcome item needs its outcome: who the numbers are for, the event, its opposite and a rate for each option",
                    ),
                    Some(o) => validate_outcome(&mut p, &format!("{at}.outcome"), o, &options, &references),
                }
            }
        }
        p.0
    }
}

pub(super) fn validate_about(p: &mut Problems, a: &About) {
    let missing = |p: &mut Problems, field: &str, what: &str| {
        p.add(
            &format!("$.about.{field}"),
            DefinitionCode::MissingMetadata,
            &format!("the aid must say {what}"),
        );
    };
    if a.authors.iter().all(|s| s.trim().is_empty()) {
        missing(p, "authors", "who wrote it");
    }
    let produced = Date::parse(&a.produced);
    let review = Date::parse(&a.next_review);
    for (field, value, date) in [
        ("produced", &a.produced, produced),
        ("next_review", &a.next_review, review),
    ] {
        if value.trim().is_empty() {
            missing(
                p,
                field,
                "when it was produced and when it is next reviewed",
            );
        } else if date.is_none() {
            p.add(
                &format!("$.about.{field}"),
                DefinitionCode::InvalidDate,
                &format!("\"{value}\" is not a date written YYYY-MM-DD"),
            );
        }
    }
    if let (Some(from), Some(to)) = (produced, review)
        && to <= from
    {
        p.add(
            "$.about.next_review",
            DefinitionCode::InvalidDate,
            "the next review date must be after the date of production",
        );
    }
    for (field, text, what) in [
        ("funding", &a.funding, "who paid for it"),
        (
            "conflicts",
            &a.conflicts,
            "the authors' conflicts of interest (or that there are none)",
        ),
        (
            "not_for",
            &a.not_for,
            "what it is not (for example, that it does not replace talking with a clinician)",
        ),
        ("update_policy", &a.update_policy, ""),
    ] {
        match text {
            Some(t) => p.text(&format!("$.about.{field}"), t),
            None if !what.is_empty() => missing(p, field, what),
            None => {}
        }
    }
    if a.references.is_empty() {
        missing(p, "references", "what evidence it draws on (references)");
    }
    let mut ids: Vec<&str> = Vec::new();
    for (i, r) in a.references.iter().enumerate() {
        let at = format!("$.about.references[{i}]");
        if r.id.trim().is_empty() {
            p.add(
                &format!("{at}.id"),
                DefinitionCode::MissingId,
                "every reference needs an id",
            );
        } else if ids.contains(&r.id.as_str()) {
            p.add(
                &format!("{at}.id"),
                DefinitionCode::DuplicateId,
                &format!("\"{}\" is used twice", r.id),
            );
        }
        ids.push(&r.id);
        if r.citation.trim().is_empty() {
            p.add(
                &format!("{at}.citation"),
                DefinitionCode::MissingMetadata,
                "a reference needs its citation",
            );
        }
        let url_ok = r
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://") || u.starts_with("http://"));
        let id_ok = r
            .identifier
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty());
        if !url_ok && !id_ok {
            p.add(
                &format!("{at}.url"),
                DefinitionCode::MissingLink,
                "a reference needs a link (https://…) or an identifier (doi:…, PMID …, ISBN …) so a reader can find it",
            );
        }
    }
}

pub(super) fn validate_outcome(
    p: &mut Problems,
    at: &str,
    o: &Outcome,
    options: &[&str],
    references: &[&str],
) {
    p.text(&format!("{at}.population"), &o.population);
    p.text(&format!("{at}.event"), &o.event);
    p.text(&format!("{at}.no_event"), &o.no_event);
    if let Some(s) = &o.source
        && !references.contains(&s.as_str())
    {
        p.add(
            &format!("{at}.source"),
            DefinitionCode::UnknownReference,
            &format!("no reference in about.references has id \"{s}\""),
        );
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, r) in o.rates.iter().enumerate() {
        let ra = format!("{at}.rates[{i}]");
        if !options.contains(&r.option.as_str()) {
            p.add(
                &format!("{ra}.option"),
                DefinitionCode::UnknownOption,
                &format!("no option of the aid has id \"{}\"", r.option),
            );
        } else if seen.contains(&r.option.as_str()) {
            p.add(
                &format!("{ra}.option"),
                DefinitionCode::DuplicateId,
                &format!("option \"{}\" has two rates", r.option),
            );
        }
        seen.push(&r.option);
        if !DENOMINATORS.contains(&r.per) {
            p.add(
                &format!("{ra}.per"),
                DefinitionCode::InvalidRate,
                &format!("out of {}: give rates out of 10, 100 or 1000 people", r.per),
            );
        }
        let top = r.high.unwrap_or(0).max(r.events);
        if top > r.per {
            p.add(
                &format!("{ra}.events"),
                DefinitionCode::RateAboveDenominator,
                &format!(
                    "{top} out of {} people: a rate (or its range) cannot be more than everyone",
                    r.per
                ),
            );
        }
        if r.over.amount() == 0 {
            p.add(
                &format!("{ra}.over"),
                DefinitionCode::InvalidRate,
                "the time frame must be at least 1",
            );
        }
        match (r.low, r.high) {
            (None, None) => {}
            (Some(l), Some(h)) if l <= r.events && r.events <= h => {}
            (Some(_), Some(_)) => p.add(
                &format!("{ra}.low"),
                DefinitionCode::InvalidRate,
                &format!("the range low to high must contain the rate ({})", r.events),
            ),
            _ => p.add(
                &format!("{ra}.low"),
                DefinitionCode::InvalidRate,
                "an uncertainty range needs both low and high",
            ),
        }
        let first = &o.rates[0];
        if r.per != first.per {
            p.add(
                &format!("{ra}.per"),
                DefinitionCode::MixedDenominators,
                &format!(
                    "out of {} here but out of {} for \"{}\": use the same denominator for every option of an outcome, so the numbers can be compared",
                    r.per, first.per, first.option
                ),
            );
        }
        if r.over != first.over {
            p.add(
                &format!("{ra}.over"),
                DefinitionCode::MixedTimeFrames,
                &format!(
                    "a different time frame from \"{}\": use the same time frame for every option of an outcome, so the numbers can be compared",
                    first.option
                ),
            );
        }
    }
    for id in options {
        if !seen.contains(id) {
            p.add(
                &format!("{at}.rates"),
                DefinitionCode::MissingRate,
                &format!("no rate for option \"{id}\": give every option's chance"),
            );
        }
    }
}
