//! Reports: filters, the FFT, I Statement and decision reports, and free text with tags.
//!
//! Every figure is read from `chorus_core::aggregate` (`InstrumentAggregate::add`, then
//! `summary()` / `fft_summary()` / `theme_summaries()`), the same code that the core's shared
//! vectors check, so a number here is the core's number, suppression included.
//!
//! | module | what it does |
//! |---|---|
//! | `filter` | the query string of a report page, checked against the member of staff's roles; the filter form |
//! | `calendar` | dates in filters (`YYYY-MM-DD`), month labels |
//! | `rows` | a filter as the store's selection of responses, and the rollups it covers (the SQL is in `chorus-store`) |
//! | `aggregates` | the core's aggregates in all, per month, per service and per instrument |
//! | `format` | published figures as HTML and words |
//! | `overview`, `fft`, `i_statements`, `decisions` | one page each |
//! | `comments` | free text newest first (its own paging) and the audited tag change |

mod aggregates;
mod calendar;
mod comments;
mod decisions;
mod fft;
mod filter;
mod format;
mod i_statements;
mod overview;
mod rows;

use chorus_core::{Instrument, ItemKind, Scoring};
use maud::Markup;

pub use aggregates::{Aggregates, aggregate};
pub use calendar::{month_before, month_days, month_label, parse_date};
pub use chorus_store::{PAGE, Row, RowQuery};
pub use comments::{TagForm, back_to_comment, comments_page, normalise_tag, tag_comment};
pub use decisions::decisions_page;
pub use fft::{compared_services, fft_page};
pub use filter::{Filter, FilterQuery, MAX_SERVICES_SHOWN, check_filter, filter_form, url_encode};
pub use format::{count, mean, pct};
pub use i_statements::i_statements_page;
pub use overview::overview;
pub use rows::{rolled, selection};

use super::auth::{Role, Staff};
pub use super::templates::{PageError, PageResult};
use crate::state::AppState;

/// Which report a page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// Friends and Family Test.
    Fft,
    /// I Statements.
    IStatements,
    /// Decision aids and shared-decision measures.
    Decisions,
    /// Free text (any instrument with free-text items).
    Comments,
    /// Every instrument (exports).
    All,
    /// FFT experience gaps between groups (equality monitoring).
    Equality,
}

impl Report {
    /// Does this report cover instruments scored this way?
    pub fn covers(self, i: &Instrument) -> bool {
        match self {
            Report::Fft | Report::Equality => i.scoring == Scoring::Fft,
            Report::IStatements => i.scoring == Scoring::IStatements,
            Report::Decisions => matches!(
                i.scoring,
                Scoring::Sure | Scoring::Collaborate | Scoring::SdmQ9 | Scoring::DecisionAid
            ),
            Report::Comments => i.items.iter().any(|it| it.kind == ItemKind::FreeText),
            Report::All => true,
        }
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Report::Fft => "fft",
            Report::IStatements => "i-statements",
            Report::Decisions => "decisions",
            Report::Comments => "comments",
            Report::All => "exports",
            Report::Equality => "equality",
        }
    }
}

/// The instruments a report covers, by id.
pub fn report_instruments(app: &AppState, report: Report) -> Vec<String> {
    app.instruments
        .values()
        .filter(|i| report.covers(i))
        .map(|i| i.id.clone())
        .collect()
}

/// Load and aggregate for a report page; the common part of the three report handlers.
async fn prepare(
    app: &AppState,
    staff: &Staff,
    q: &FilterQuery,
    report: Report,
) -> Result<(Filter, Markup, Aggregates), PageError> {
    let f = check_filter(app, staff, q, report, Role::Viewer)?;
    let form = filter_form(app, staff, &f, report, Role::Viewer).await?;
    let a = aggregate(app, &f, &report_instruments(app, report)).await?;
    Ok((f, form, a))
}
