//! A report filter as the store's [`Selection`] of responses, and the rollups it covers.

use chorus_store::{
    Selection,
    rollup::{Part, Rolled, RollupKey},
};

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

/// The rollups of the responses `f` covers among `instruments`, `part` of each parsed. A
/// report's filter is whole days with no tag or search, so rollups always answer it.
pub async fn rolled(
    app: &AppState,
    f: &Filter,
    instruments: &[String],
    part: Part,
) -> anyhow::Result<Vec<(RollupKey, Rolled)>> {
    app.store
        .rollups(&selection(f, instruments), part)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a report filter is whole days, which rollups answer"))
}
