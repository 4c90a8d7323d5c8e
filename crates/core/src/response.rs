//! Responses: what a patient answered, and checking it against its instrument.
//!
//! The widget validates before sending (to show errors in place) and the server validates
//! again (it trusts nothing it is sent): the same function, so they agree on what is valid.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{
    instrument::{AGREEMENT_ANSWERS, Instrument, ItemKind},
    score::ScoreReport,
    text::Locale,
};

/// One answer. The shape (`true`, `7`, `"agree"`, `["a","b"]`) is checked against the item's
/// kind by [`validate_response`]; a hand-written (de)serialiser keeps this out of serde's
/// buffering `untagged` machinery, which costs bundle bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Yes/no.
    Bool(bool),
    /// Scale or importance.
    Number(i64),
    /// Option id, agreement answer or free text.
    Text(String),
    /// Option ids (multiple choice).
    List(Vec<String>),
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::Bool(b) => s.serialize_bool(*b),
            Answer::Number(n) => s.serialize_i64(*n),
            Answer::Text(t) => s.serialize_str(t),
            Answer::List(l) => l.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Answer, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Answer;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true/false, a whole number, a string or a list of strings")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Answer, E> {
                Ok(Answer::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Answer, E> {
                Ok(Answer::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Answer, E> {
                i64::try_from(v)
                    .map(Answer::Number)
                    .map_err(|_| E::custom("number too large"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Answer, E> {
                Ok(Answer::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Answer, E> {
                Ok(Answer::Text(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Answer, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Answer::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A submitted response: the JSON the widget posts and the server stores. It names the
/// instrument *and version* so an answer is always read against the questions it answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Instrument id.
    pub instrument: String,
    /// Instrument version the patient saw.
    pub version: u32,
    /// Language the patient used.
    #[serde(default)]
    pub locale: Locale,
    /// Made once per response by the widget, so a retry is recognised and never stored twice.
    pub idempotency_key: String,
    /// Answers by item id; unanswered items are absent.
    #[serde(default)]
    pub answers: BTreeMap<String, Answer>,
    /// The widget's own score, kept only to prove browser and server agree: the server
    /// always re-scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_scores: Option<ScoreReport>,
}

/// Stable error codes, for translation and for clients to act on: widgets show their own
/// English or Welsh sentence per code, so the codes are part of the API and never renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The response names another instrument.
    WrongInstrument,
    /// The response was made against another version of the instrument.
    WrongVersion,
    /// The idempotency key is missing or malformed.
    InvalidIdempotencyKey,
    /// An answer names an item the instrument does not have.
    UnknownItem,
    /// A required item has no answer.
    RequiredMissing,
    /// An answer has the wrong shape for its item (e.g. text for a yes/no).
    WrongType,
    /// A choice that is not one of the item's options.
    InvalidOption,
    /// The same option twice in a multiple choice.
    DuplicateOption,
    /// Free text longer than the item allows.
    TextTooLong,
    /// A number outside the item's range.
    OutOfRange,
    /// An answer to an item that cannot be answered (information, option grid).
    NotAnswerable,
}

/// One problem with a response, tied to its item so a widget can put the message next to
/// the question and link to it from the error summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseError {
    /// What is wrong.
    pub code: ErrorCode,
    /// Which item, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// A sentence in English for logs and web teams; widgets translate by `code`.
    pub message: String,
}

fn err(code: ErrorCode, item: Option<&str>, message: String) -> ResponseError {
    ResponseError {
        code,
        item: item.map(str::to_owned),
        message,
    }
}

/// Longest idempotency key accepted; keys are random tokens, not documents, and a cap keeps
/// the server's idempotency index small.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// Check a response against its instrument. Returns every problem at once (unknown items,
/// then item order), because a patient should fix everything in one go; a wrong instrument or
/// version returns only that, as nothing else can be judged against the wrong questions.
pub fn validate_response(instrument: &Instrument, r: &Response) -> Result<(), Vec<ResponseError>> {
    use ErrorCode::*;
    let mut errors = Vec::new();
    if r.instrument != instrument.id {
        errors.push(err(
            WrongInstrument,
            None,
            format!(
                "this response is for \"{}\", not \"{}\"",
                r.instrument, instrument.id
            ),
        ));
        return Err(errors);
    }
    if r.version != instrument.version {
        errors.push(err(
            WrongVersion,
            None,
            format!(
                "this response answers version {} but the instrument is at version {}",
                r.version, instrument.version
            ),
        ));
        return Err(errors);
    }
    let key = &r.idempotency_key;
    if key.len() < 8
        || key.len() > MAX_IDEMPOTENCY_KEY
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        errors.push(err(
            InvalidIdempotencyKey,
            None,
            format!(
                "the idempotency key must be 8 to {MAX_IDEMPOTENCY_KEY} letters, digits, '-' or '_'"
            ),
        ));
    }
    for id in r.answers.keys() {
        if instrument.item(id).is_none() {
            errors.push(err(
                UnknownItem,
                Some(id),
                format!("there is no item \"{id}\""),
            ));
        }
    }
    for item in &instrument.items {
        let id = item.id.as_str();
        let Some(answer) = r.answers.get(id) else {
            if item.required {
                errors.push(err(
                    RequiredMissing,
                    Some(id),
                    format!("\"{id}\" must be answered"),
                ));
            }
            continue;
        };
        let has = |o: &str| item.options.iter().any(|c| c.id == o);
        let wrong = |what: &str| err(WrongType, Some(id), format!("\"{id}\" takes {what}"));
        match (item.kind, answer) {
            (ItemKind::OptionGrid | ItemKind::Info | ItemKind::Outcome, _) => errors.push(err(
                NotAnswerable,
                Some(id),
                format!("\"{id}\" is not a question"),
            )),
            (ItemKind::SingleChoice | ItemKind::Knowledge, Answer::Text(o)) => {
                if !has(o) {
                    errors.push(err(
                        InvalidOption,
                        Some(id),
                        format!("\"{o}\" is not an option of \"{id}\""),
                    ));
                }
            }
            (ItemKind::SingleChoice | ItemKind::Knowledge, _) => {
                errors.push(wrong("one option id"))
            }
            (ItemKind::MultipleChoice, Answer::List(list)) => {
                let mut seen = BTreeSet::new();
                for o in list {
                    if !has(o) {
                        errors.push(err(
                            InvalidOption,
                            Some(id),
                            format!("\"{o}\" is not an option of \"{id}\""),
                        ));
                    } else if !seen.insert(o) {
                        errors.push(err(
                            DuplicateOption,
                            Some(id),
                            format!("\"{o}\" is chosen twice"),
                        ));
                    }
                }
                if item.required && list.is_empty() {
                    errors.push(err(
                        RequiredMissing,
                        Some(id),
                        format!("\"{id}\" must be answered"),
                    ));
                }
            }
            (ItemKind::MultipleChoice, _) => errors.push(wrong("a list of option ids")),
            (ItemKind::Agreement, Answer::Text(a)) => {
                if !AGREEMENT_ANSWERS.iter().any(|(k, _)| k == a) {
                    errors.push(err(
                        InvalidOption,
                        Some(id),
                        format!("\"{a}\" is not an agreement answer"),
                    ));
                }
            }
            (ItemKind::Agreement, _) => errors.push(wrong("an agreement answer")),
            (ItemKind::Scale | ItemKind::Importance, Answer::Number(n)) => {
                let (min, max) = item.range();
                if *n < min || *n > max {
                    errors.push(err(
                        OutOfRange,
                        Some(id),
                        format!("\"{id}\" takes {min} to {max}, not {n}"),
                    ));
                }
            }
            (ItemKind::Scale | ItemKind::Importance, _) => errors.push(wrong("a whole number")),
            (ItemKind::YesNo, Answer::Bool(_)) => {}
            (ItemKind::YesNo, _) => errors.push(wrong("true or false")),
            (ItemKind::FreeText, Answer::Text(t)) => {
                let max = item.max_length.unwrap_or(0) as usize;
                let len = t.chars().count();
                if len > max {
                    errors.push(err(
                        TextTooLong,
                        Some(id),
                        format!("\"{id}\" takes at most {max} characters, not {len}"),
                    ));
                }
                if item.required && t.trim().is_empty() {
                    errors.push(err(
                        RequiredMissing,
                        Some(id),
                        format!("\"{id}\" must be answered"),
                    ));
                }
            }
            (ItemKind::FreeText, _) => errors.push(wrong("text")),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
