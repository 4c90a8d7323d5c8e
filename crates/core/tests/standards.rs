//! The decision-aid standards as lints, and the self-assessment (feature `authoring`): one
//! aid that meets every automatic criterion, then one change at a time that breaks one.
#![cfg(feature = "authoring")]

use chorus_core::{
    aid::Date,
    standards::{LintCode, Status, check},
};
use serde_json::{Value, json};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn t(en: &str) -> Value {
    json!({"en": en, "cy": format!("{en} (cy)")})
}

/// An aid meeting every criterion Chorus can check.
fn good() -> Value {
    json!({
        "id": "aid-test", "version": 1, "scoring": "decision_aid", "example": true,
        "title": t("Sore knee: what can I do?"),
        "intro": t("This aid helps you choose how to care for a sore knee."),
        "about": {
            "authors": ["Test author"], "produced": "2026-01-10", "next_review": "2027-01-10",
            "update_policy": t("We check it every year."),
            "funding": t("No outside funding."), "conflicts": t("None."),
            "not_for": t("It does not replace talking with your doctor."),
            "references": [{"id": "r1", "citation": "A review, 2025.", "url": "https://example.org/r1"}]
        },
        "options": [
            {"id": "wait", "text": t("Wait and see"), "watchful_waiting": true},
            {"id": "exercise", "text": t("Exercise")}
        ],
        "items": [
            {"id": "grid", "kind": "option_grid", "text": t("Compare"), "rows": [
                {"id": "good", "feature": "benefit", "question": t("What is good about it?"),
                 "cells": [t("You do not need to do anything new."), t("Your knee may get stronger.")]},
                {"id": "bad", "feature": "downside", "question": t("What is bad about it?"),
                 "cells": [t("The pain may stay as it is."), t("It takes time and effort.")]}
            ]},
            {"id": "pain", "kind": "outcome", "text": t("Less pain after a year"),
             "outcome": {"population": t("Adults with a sore knee"), "event": t("have less pain"),
                         "no_event": t("do not have less pain"), "source": "r1",
                         "rates": [
                             {"option": "wait", "events": 20, "per": 100, "over": {"years": 1}, "low": 15, "high": 25},
                             {"option": "exercise", "events": 40, "per": 100, "over": {"years": 1}, "low": 33, "high": 47}
                         ]}}
        ]
    })
}

fn lints(v: &Value, today: &str) -> Vec<(LintCode, &'static str, String)> {
    let c = check(&v.to_string(), Date::parse(today));
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
    c.lints
        .into_iter()
        .map(|l| (l.code, l.criterion, l.path))
        .collect()
}

#[test]
fn a_complete_aid_has_no_lints_and_meets_every_automatic_criterion() {
    let v = good();
    assert_eq!(lints(&v, "2026-06-01"), vec![]);
    let a = check(&v.to_string(), Date::parse("2026-06-01"))
        .assessment
        .unwrap();
    for row in &a.criteria {
        let want = if row.criterion.automatic {
            Status::Met
        } else {
            Status::SignOff
        };
        assert_eq!(row.status, want, "{}", row.criterion.id);
    }
    let (met, not, sign, na) = a.tally();
    assert_eq!((not, na), (0, 0));
    assert!(met >= 12 && sign >= 3, "{met} {sign}");
    let md = a.markdown();
    assert!(
        md.contains("## IPDAS qualifying") && md.contains("## NICE NG197"),
        "{md}"
    );
    assert!(md.contains(
        "| Describes what it is like to experience the outcomes | needs a person's sign-off |"
    ));
    assert!(!md.contains("## To fix"));
    assert!(a.plain().contains("[ipdas-q-options] IPDAS qualifying"));
}

/// Each change breaks one criterion, and the lint names it; the self-assessment says "not
/// met" for exactly that criterion.
#[test]
fn each_standard_has_its_lint() {
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, LintCode, &str, &str); 10] = [
        (
            "no waiting option",
            |v| v["options"][0]["watchful_waiting"] = json!(false),
            LintCode::NoWaitingOption,
            "ipdas-q-options",
            "$.options",
        ),
        (
            "no benefits row",
            |v| v["items"][0]["rows"][0]["feature"] = Value::Null,
            LintCode::MissingFeatures,
            "ipdas-q-benefits",
            "$.items",
        ),
        (
            "no downsides row",
            |v| {
                v["items"][0]["rows"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("feature");
            },
            LintCode::MissingFeatures,
            "ipdas-q-downsides",
            "$.items",
        ),
        (
            "downsides far shorter for one option",
            |v| {
                v["items"][0]["rows"][1]["cells"][1] = t(
                    "It takes time and effort. You may feel sore at first. You need to keep going for weeks before it helps.",
                )
            },
            LintCode::UnequalDetail,
            "ipdas-c-equal-detail",
            "$.items[0].rows",
        ),
        (
            "no source",
            |v| {
                v["items"][1]["outcome"]
                    .as_object_mut()
                    .unwrap()
                    .remove("source");
            },
            LintCode::MissingCitation,
            "ipdas-c-citations",
            "$.items[1].outcome.source",
        ),
        (
            "a rate without its range",
            |v| {
                let r = v["items"][1]["outcome"]["rates"][1]
                    .as_object_mut()
                    .unwrap();
                r.remove("low");
                r.remove("high");
            },
            LintCode::NoUncertainty,
            "ipdas-c-uncertainty",
            "$.items[1].outcome.rates[1]",
        ),
        (
            "a relative risk in the text",
            |v| v["items"][0]["rows"][0]["cells"][1] = json!({"en": "Your knee is twice as likely to get better.", "cy": "Mae'ch pen-glin yn fwy tebygol o wella."}),
            LintCode::PercentageInText,
            "ipdas-p-event-rates",
            "$.items[0].rows[0].cells[1].en",
        ),
        (
            "a hard sentence",
            |v| {
                v["intro"] = t(
                    "Pharmacological and non-pharmacological interventions necessitate individualised consideration.",
                )
            },
            LintCode::ReadingAge,
            "nice-plain-language",
            "$.intro.en",
        ),
        (
            "no update policy",
            |v| {
                v["about"].as_object_mut().unwrap().remove("update_policy");
            },
            LintCode::MissingMetadata,
            "ipdas-c-update",
            "$.about.update_policy",
        ),
        (
            "past its review date",
            |v| v["about"]["next_review"] = json!("2026-05-31"),
            LintCode::PastReview,
            "nice-in-date",
            "$.about.next_review",
        ),
    ];
    for (name, edit, code, criterion, path) in cases {
        let mut v = good();
        edit(&mut v);
        let got = lints(&v, "2026-06-01");
        assert_eq!(got, vec![(code, criterion, path.to_string())], "{name}");
        let a = check(&v.to_string(), Date::parse("2026-06-01"))
            .assessment
            .unwrap();
        let not_met: Vec<&str> = a
            .criteria
            .iter()
            .filter(|r| r.status == Status::NotMet)
            .map(|r| r.criterion.id)
            .collect();
        assert_eq!(not_met, vec![criterion], "{name}");
        assert!(a.markdown().contains("## To fix"), "{name}");
    }
}

#[test]
fn definition_problems_count_against_their_criteria_and_probabilities_need_outcomes() {
    let mut v = good();
    v["items"][1]["outcome"]["rates"][1]["per"] = json!(1000);
    let c = check(&v.to_string(), None);
    assert_eq!(c.problems.len(), 1);
    let a = c.assessment.unwrap();
    let row = a
        .criteria
        .iter()
        .find(|r| r.criterion.id == "ipdas-p-same-scale")
        .unwrap();
    assert_eq!(row.status, Status::NotMet);
    // Without outcomes the probability criteria do not apply (a person confirms).
    let mut v = good();
    v["items"].as_array_mut().unwrap().pop();
    let a = check(&v.to_string(), None).assessment.unwrap();
    let na: Vec<&str> = a
        .criteria
        .iter()
        .filter(|r| r.status == Status::NotApplicable)
        .map(|r| r.criterion.id)
        .collect();
    assert!(
        na.contains(&"ipdas-p-event-rates") && na.contains(&"ipdas-c-uncertainty"),
        "{na:?}"
    );
    // Not JSON: the problem, no lints, no assessment.
    let c = check("{", None);
    assert_eq!(
        (c.problems.len(), c.lints.len(), c.assessment.is_none()),
        (1, 0, true)
    );
}

/// Every shipped decision aid passes every definition rule and every lint, and has its
/// self-assessment with nothing "not met".
#[cfg(feature = "library")]
#[test]
fn shipped_aids_pass_every_lint() {
    let mut aids = 0;
    let mut found = Vec::new();
    for (id, json) in chorus_core::library::SOURCES {
        let c = check(json, Date::parse("2026-12-01"));
        let Some(a) = &c.assessment else { continue };
        aids += 1;
        assert!(c.problems.is_empty(), "{id}: {:#?}", c.problems);
        found.extend(
            c.lints
                .iter()
                .map(|l| format!("{id} {} {:?} {}", l.path, l.code, l.message)),
        );
        if c.lints.is_empty() {
            assert_eq!(a.tally().1, 0, "{id}");
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    assert!(aids >= 3, "{aids} aids");
}
