//! A report filter as the store's [`Selection`] of responses.

use chorus_store::{Row, RowQuery, Selection};

use super::{Filter, calendar::parse_date};
use crate::state::AppState;

/// The responses `f` covers among `instruments` (the filter's one instrument, if it names one).
/// The tag and the search are left out: they narrow the comments page only, which adds them.
pub fn selection(f: &Filter, instruments: &[String]) -> Selection {
    Selection {
        site: Some(f.site.clone()),
        service: f.service.clone(),
        instruments: Some(match &f.instrument {
            Some(i) => vec![i.clone()],
            None => instruments.to_vec(),
        }),
        received_from: f.from.as_ref().map(|d| format!("{d}T00:00:00.000Z")),
        received_before: f
            .to
            .as_deref()
            .and_then(parse_date)
            .map(|d| crate::store::iso_utc((d + 1) * 86_400)),
        tag: None,
        mode: f.mode.map(|m| m.code().to_string()),
        search: None,
    }
}

/// Every response matching `f` among `instruments`, oldest first, scores only.
pub async fn load(app: &AppState, f: &Filter, instruments: &[String]) -> anyhow::Result<Vec<Row>> {
    RowQuery::new(&selection(f, instruments), false)
        .all(&app.store)
        .await
}
