//! The core's aggregates over a filtered set of responses: merged from the store's rollups
//! (one per day, service, instrument, locale and mode), so a report over years costs days ×
//! services, not responses.

use std::collections::BTreeMap;

use chorus_core::aggregate::InstrumentAggregate;

use chorus_store::rollup::{Part, RollupKey};

use super::{Filter, rows::rolled};
use crate::state::AppState;

/// Aggregate every response matching `f` among `instruments`, merged from its rollups.
pub async fn aggregate(
    app: &AppState,
    f: &Filter,
    instruments: &[String],
) -> anyhow::Result<Aggregates> {
    let mut a = Aggregates::default();
    for (key, part) in &rolled(app, f, instruments, Part::Aggregate).await? {
        a.merge(key, &part.aggregate);
    }
    Ok(a)
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
}
