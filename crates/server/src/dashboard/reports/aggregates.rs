//! The core's aggregates over a filtered set of responses: merged from the store's rollups
//! (one per day, service, instrument, locale and mode), so a report over years costs days ×
//! services, not responses; read from the rows a page at a time only where rollups cannot
//! answer (a filter that narrows below a day).

use std::collections::BTreeMap;

use chorus_core::{ScoreReport, aggregate::InstrumentAggregate};

use chorus_store::{PAGE, Row, RowQuery, rollup::RollupKey};

use super::{Filter, rows::selection};
use crate::state::AppState;

/// Aggregate every response matching `f` among `instruments`, a page at a time (no rows are
/// kept, so a report over years of responses needs no more memory than one over a week).
pub async fn aggregate(
    app: &AppState,
    f: &Filter,
    instruments: &[String],
) -> anyhow::Result<Aggregates> {
    let sel = selection(f, instruments);
    if let Some(parts) = app.store.rollups(&sel).await? {
        let mut a = Aggregates::default();
        for (key, part) in &parts {
            a.merge(key, &part.aggregate);
        }
        return Ok(a);
    }
    let q = RowQuery::new(&sel, false);
    let mut a = Aggregates::default();
    let mut last = 0;
    loop {
        let rows = q.page(&app.store, last).await?;
        a.add(&rows);
        match rows.last() {
            Some(r) if (rows.len() as i64) == PAGE => last = r.id,
            _ => return Ok(a),
        }
    }
}

/// Aggregates of a set of responses: in all, per month, per service and per instrument.
#[derive(Debug, Default)]
pub struct Aggregates {
    /// Everything.
    pub total: InstrumentAggregate,
    /// By `YYYY-MM`.
    pub by_month: BTreeMap<String, InstrumentAggregate>,
    /// By service (`""`: none given).
    pub by_service: BTreeMap<String, InstrumentAggregate>,
    /// By instrument id.
    pub by_instrument: BTreeMap<String, InstrumentAggregate>,
}

impl Aggregates {
    /// Add each row's stored score report (the server's own). A report that does not parse
    /// (only possible if the database was edited by hand) is logged and left out.
    pub fn of(rows: &[Row]) -> Aggregates {
        let mut a = Aggregates::default();
        a.add(rows);
        a
    }

    /// Add one rollup (a day of one service's instrument in one locale and mode).
    pub fn merge(&mut self, key: &RollupKey, part: &InstrumentAggregate) {
        self.total.merge(part);
        self.by_month
            .entry(key.day.get(..7).unwrap_or("").to_string())
            .or_default()
            .merge(part);
        self.by_service
            .entry(key.service.clone())
            .or_default()
            .merge(part);
        self.by_instrument
            .entry(key.instrument.clone())
            .or_default()
            .merge(part);
    }

    /// Add more rows.
    pub fn add(&mut self, rows: &[Row]) {
        let a = self;
        for r in rows {
            let report: ScoreReport = match serde_json::from_str(&r.scores) {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(id = r.id, error = %e, "stored score report does not parse; left out of reports");
                    continue;
                }
            };
            a.total.add(&report);
            a.by_month
                .entry(r.received_at.get(..7).unwrap_or("").to_string())
                .or_default()
                .add(&report);
            a.by_service
                .entry(r.service.clone().unwrap_or_default())
                .or_default()
                .add(&report);
            a.by_instrument
                .entry(r.instrument.clone())
                .or_default()
                .add(&report);
        }
    }
}
