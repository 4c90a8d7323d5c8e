//! Rollups: the core's [`InstrumentAggregate`] kept per (site, service, instrument, version,
//! locale, mode, UTC day), so a report over years merges days × services rows instead of
//! re-reading every response (tables and triggers: migration 0013).
//!
//! Why they can never drift from the rows:
//! - **Inserts**: the writer adds each new response to its rollup in the same transaction as
//!   the response ([`add`]). Aggregates merge by integer addition, so the rollup of a day is
//!   exactly the aggregate of its responses, in any order.
//! - **Deletes and updates** (retention, withdrawal, an operator's SQL): a trigger notes the
//!   key in `rollup_dirty` in the same transaction as the change. Until the store recomputes
//!   that key from its rows ([`Store::settle_rollups`], run by the server's housekeeping and
//!   after each retention run), every read takes that key from the rows, so a report is exact
//!   at once.
//! - **Rows written by an older Chorus**: rolled up once when the database is opened
//!   (`rollup_state.built`), and `chorus rollup rebuild` recomputes everything on demand;
//!   `chorus rollup check` compares stored rollups with a recomputation.
//!
//! Locks (PostgreSQL, several servers): the writer locks the rollup rows it updates in key
//! order after its response rows; a recomputation locks the dirty note, then the rollup row,
//! then reads. No path takes them in the other order, so none can deadlock another.

//!
//! Here: the key, what a rollup holds, and the SQL over keys and days; [`write`]: the
//! writer's additions and the recomputation of one key; [`read`]: reports' reads;
//! [`maintain`]: settling, rebuilding and checking.

mod maintain;
mod read;
mod write;

use std::collections::BTreeMap;

use chorus_core::{ScoreReport, aggregate::InstrumentAggregate};
use sqlx::{AssertSqlSafe, Row as _};

pub use maintain::CheckReport;
pub(crate) use read::{Days, Plan, rollup_condition};
pub(crate) use write::{Added, add};

/// The key of one rollup: one day of one instrument version in one locale and mode at one
/// service of one site.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// Site.
    pub site: String,
    /// Service (`""`: none given).
    pub service: String,
    /// Instrument id.
    pub instrument: String,
    /// Instrument version.
    pub version: i64,
    /// Locale tag.
    pub locale: String,
    /// Mode of collection code.
    pub mode: String,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
}

/// FFT responses by "About you" answer, for the equality report: `[positive, in all]` of
/// every FFT response, and of those giving each answer to each question. One characteristic
/// at a time (never a combination of two), so a rollup can single no one out by crossing.
/// Merged by addition, exactly like the core's aggregates.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AboutGroups {
    /// Every FFT response: `[positive, in all]`.
    pub all: [u64; 2],
    /// Question id → answer id → `[positive, in all]`.
    pub by: BTreeMap<String, BTreeMap<String, [u64; 2]>>,
}

impl AboutGroups {
    /// Count one response (its score report and stored "About you" answers).
    pub fn add(&mut self, report: &ScoreReport, about: Option<&str>) {
        let Some(fft) = &report.fft else { return };
        let positive = u64::from(fft.category == Some(chorus_core::score::FftCategory::Positive));
        self.all[0] += positive;
        self.all[1] += 1;
        let answers: BTreeMap<String, String> = about
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        for (q, a) in answers {
            let c = self.by.entry(q).or_default().entry(a).or_default();
            c[0] += positive;
            c[1] += 1;
        }
    }

    /// Add another part.
    pub fn merge(&mut self, o: &AboutGroups) {
        self.all[0] += o.all[0];
        self.all[1] += o.all[1];
        for (q, answers) in &o.by {
            let mine = self.by.entry(q.clone()).or_default();
            for (a, c) in answers {
                let m = mine.entry(a.clone()).or_default();
                m[0] += c[0];
                m[1] += c[1];
            }
        }
    }
}

/// One rollup as read: its key, the core's aggregate and the "About you" groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rolled {
    /// The core's aggregate.
    pub aggregate: InstrumentAggregate,
    /// FFT responses by "About you" answer.
    pub about: AboutGroups,
}

impl Rolled {
    /// Count one stored response (a report that does not parse, only possible if the
    /// database was edited by hand, is logged and left out, as reports always have).
    fn add(&mut self, id: i64, scores: &str, about: Option<&str>) {
        match serde_json::from_str::<ScoreReport>(scores) {
            Ok(r) => {
                self.aggregate.add(&r);
                self.about.add(&r, about);
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "stored score report does not parse; left out of reports")
            }
        }
    }

    /// Add another part.
    pub fn merge(&mut self, o: &Rolled) {
        self.aggregate.merge(&o.aggregate);
        self.about.merge(&o.about);
    }

    fn parse_part(part: Part, json: &str) -> Rolled {
        let bad = |e: serde_json::Error| {
            tracing::warn!(error = %e, "a stored rollup does not parse; counted as empty until rebuilt");
        };
        match part {
            Part::Aggregate => Rolled {
                aggregate: serde_json::from_str(json).map_err(bad).unwrap_or_default(),
                about: AboutGroups::default(),
            },
            Part::About => {
                let about: AboutGroups =
                    serde_json::from_str(json).map_err(bad).unwrap_or_default();
                Rolled {
                    aggregate: InstrumentAggregate {
                        responses: about.all[1],
                        ..InstrumentAggregate::default()
                    },
                    about,
                }
            }
        }
    }

    fn parse(aggregate: &str, about: &str) -> Rolled {
        let bad = |e: serde_json::Error| {
            tracing::warn!(error = %e, "a stored rollup does not parse; counted as empty until rebuilt");
        };
        Rolled {
            aggregate: serde_json::from_str(aggregate)
                .map_err(bad)
                .unwrap_or_default(),
            about: serde_json::from_str(about).map_err(bad).unwrap_or_default(),
        }
    }
}

/// Key columns in [`RollupKey`]'s order.
const KEY: &str = "site, service, instrument, version, locale, mode, day";

/// `site = $n AND …` over the key columns, from `$first`.
fn key_condition(first: usize) -> String {
    KEY.split(", ")
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", first + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The same condition over `responses` (where the service may be NULL and the day is part of
/// the received time).
fn rows_condition() -> &'static str {
    "site = $1 AND COALESCE(service, '') = $2 AND instrument = $3 AND version = $4 \
     AND locale = $5 AND mode = $6 AND received_at >= $7 AND received_at < $8"
}

/// [`rows_condition`]'s values for `k`'s period.
fn bind_rows<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    k: &'q RollupKey,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let (from, before) = period(&k.day);
    bind_columns(q, k).bind(from).bind(before)
}

/// `k`'s values in [`KEY`]'s order.
fn bind_key<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    k: &'q RollupKey,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    bind_columns(q, k).bind(k.day.as_str())
}

/// `k`'s values but its day, in [`KEY`]'s order (what [`bind_key`] and [`bind_rows`] share).
fn bind_columns<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    k: &'q RollupKey,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(k.site.as_str())
        .bind(k.service.as_str())
        .bind(k.instrument.as_str())
        .bind(k.version)
        .bind(k.locale.as_str())
        .bind(k.mode.as_str())
}

fn key_from(r: &sqlx::any::AnyRow, at: usize) -> RollupKey {
    RollupKey {
        site: r.get(at),
        service: r.get(at + 1),
        instrument: r.get(at + 2),
        version: r.get(at + 3),
        locale: r.get(at + 4),
        mode: r.get(at + 5),
        day: r.get(at + 6),
    }
}

/// The day after `day` (`YYYY-MM-DD`), for a half-open range of received times.
pub(crate) fn next_day(day: &str) -> String {
    let parts: Vec<&str> = day.split('-').collect();
    let date = match parts[..] {
        [y, m, d] => (|| {
            let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
            time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
        })(),
        _ => None,
    };
    match date.and_then(|d| d.next_day()) {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        // Not a date (only if a row's time was edited by hand): an empty range.
        None => day.to_string(),
    }
}

fn to_json(a: &impl serde::Serialize) -> String {
    serde_json::to_string(a).expect("an aggregate always serialises")
}

/// The month after `month` (`YYYY-MM`).
pub(crate) fn next_month(month: &str) -> String {
    let (y, m) = month.split_once('-').unwrap_or(("", ""));
    match (y.parse::<i32>(), m.parse::<u32>()) {
        (Ok(y), Ok(12)) => format!("{:04}-01", y + 1),
        (Ok(y), Ok(m)) => format!("{y:04}-{:02}", m + 1),
        _ => month.to_string(),
    }
}

/// Is this rollup's period a month (`YYYY-MM`) rather than a day (`YYYY-MM-DD`)?
pub(crate) fn is_month(day: &str) -> bool {
    day.len() == 7
}

/// The received-time range `[from, before)` of a rollup's period (a day or a month).
pub(crate) fn period(day: &str) -> (String, String) {
    if is_month(day) {
        (format!("{day}-01T"), format!("{}-01T", next_month(day)))
    } else {
        (format!("{day}T"), format!("{}T", next_day(day)))
    }
}

/// The month rollup a day rollup is part of.
fn month_key(k: &RollupKey) -> RollupKey {
    RollupKey {
        day: k.day.get(..7).unwrap_or_default().to_string(),
        ..k.clone()
    }
}

/// Day rollups, and the month rollups made by merging them.
fn with_months(days: BTreeMap<RollupKey, Rolled>) -> BTreeMap<RollupKey, Rolled> {
    let mut out = days.clone();
    for (k, r) in &days {
        out.entry(month_key(k)).or_default().merge(r);
    }
    out
}

/// Which part of a rollup a read needs (each is parsed only where it is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The core's aggregate (every report but the equality one); `about` is left empty.
    Aggregate,
    /// The "About you" groups (the equality report); `aggregate` counts only its responses.
    About,
}

/// A query with its values bound in order.
pub(crate) fn bound(
    sql: String,
    binds: &[String],
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b.as_str());
    }
    q
}

#[cfg(test)]
mod tests {
    use super::{read::days_of, *};
    use crate::Selection;

    #[test]
    fn next_day_crosses_months_years_and_leap_days() {
        assert_eq!(next_day("2024-02-28"), "2024-02-29");
        assert_eq!(next_day("2024-02-29"), "2024-03-01");
        assert_eq!(next_day("2023-12-31"), "2024-01-01");
        assert_eq!(next_day("nonsense"), "nonsense");
    }

    #[test]
    fn only_whole_days_without_tag_or_search_are_answered_by_rollups() {
        let mut s = Selection {
            received_from: Some("2026-01-01T00:00:00.000Z".into()),
            received_before: Some("2026-02-01T00:00:00.000Z".into()),
            ..Selection::default()
        };
        let d = days_of(&s).expect("whole days");
        assert_eq!(
            (d.from.as_deref(), d.before.as_deref()),
            (Some("2026-01-01"), Some("2026-02-01"))
        );
        s.received_before = Some("2026-02-01T12:00:00.000Z".into());
        assert!(days_of(&s).is_none());
        s.received_before = None;
        s.tag = Some("parking".into());
        assert!(days_of(&s).is_none());
    }
}
