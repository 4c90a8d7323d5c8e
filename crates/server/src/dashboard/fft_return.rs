//! The NHS England Friends and Family Test monthly return: one CSV per setting, rows by site ×
//! ward and specialty (inpatients) × mode of collection, counted from the core's aggregate;
//! the submission deadline for the month; and a preview of which cells publication would
//! suppress (small numbers, and the cells hidden so those cannot be worked out).
//!
//! A response's setting is its service's (`services` in the configuration, or the dashboard's
//! Site settings); where the service has none, its instrument's (`fft-ae` → A&E); the general
//! `fft` with no setting is counted as "Other", which is in the all-settings CSV only.
//!
//! **The deadline.** The return for a month closes on the [`WORKING_DAY`]th working day of the
//! following month: working days are Monday to Friday, less the bank holidays of England and
//! Wales ([`bank_holidays`]: the fixed rules, Easter, and the one-off changes of 2020, 2022 and
//! 2023). Trust settings are submitted through NHS England's Strategic Data Collection Service,
//! GP and dental practices through CQRS; NHS England publishes each year's timetable, and a
//! date it moves is not known to this rule (the exports page says so).

use std::collections::BTreeMap;

use chorus_core::{Scoring, aggregate::InstrumentAggregate, mode::Mode};
use chorus_store::rollup::Part;
use time::{Date, Duration, Month, Weekday};

use crate::{
    config::{FftSetting, Site},
    state::AppState,
};

/// The working day of the month after on which a month's return closes.
pub const WORKING_DAY: u32 = 12;

/// The six answer columns, in the return's order.
pub const ANSWERS: [&str; 6] = [
    "Very good",
    "Good",
    "Neither good nor poor",
    "Poor",
    "Very poor",
    "Don't know",
];

/// One row of the return: a setting, site, service (for inpatients its ward and specialty) and
/// mode, with its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnRow {
    /// The setting (`None`: not known, "Other").
    pub setting: Option<FftSetting>,
    /// The service id (kept for inpatients, merged per site for the other settings in the
    /// per-setting CSVs).
    pub service: String,
    /// The ward code (inpatients).
    pub ward_code: String,
    /// The specialty code (inpatients).
    pub specialty_code: String,
    /// The return's mode column.
    pub mode: &'static str,
    /// Counts of the six answers.
    pub counts: [u64; 6],
}

impl ReturnRow {
    /// Responses in the row.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The setting a response of `instrument` for `service` is returned under.
pub fn setting_of(
    site: Option<&Site>,
    service: Option<&str>,
    instrument: &str,
) -> Option<FftSetting> {
    service
        .and_then(|s| site?.service(s))
        .and_then(|s| s.setting)
        .or_else(|| FftSetting::of_instrument(instrument))
}

/// The rows of `site`'s return for the month `[first, last]` (dates `YYYY-MM-DD`), every
/// setting, each (setting, service, mode) once, in that order.
pub async fn rows(
    app: &AppState,
    f: &super::reports::Filter,
) -> anyhow::Result<(Vec<ReturnRow>, usize)> {
    let site = app.site(&f.site);
    let instruments = super::reports::report_instruments(app, super::reports::Report::Fft);
    let parts = super::reports::rolled(app, f, &instruments, Part::Aggregate).await?;
    let mut groups: BTreeMap<(Option<FftSetting>, String, &'static str), InstrumentAggregate> =
        BTreeMap::new();
    let mut counted = 0;
    for (k, a) in parts {
        let (service, instrument, mode, a) = (k.service, k.instrument, k.mode, a.aggregate);
        if !app
            .instruments
            .get(&instrument)
            .is_some_and(|i| i.scoring == Scoring::Fft)
        {
            continue;
        }
        counted += a.responses as usize;
        let service_opt = (!service.is_empty()).then_some(service.as_str());
        groups
            .entry((
                setting_of(site.as_ref(), service_opt, &instrument),
                service.clone(),
                Mode::from_code(&mode)
                    .unwrap_or(Mode::Other)
                    .return_column(),
            ))
            .or_default()
            .merge(&a);
    }
    let out = groups
        .into_iter()
        .map(|((setting, service, mode), a)| {
            let known = site.as_ref().and_then(|s| s.service(&service));
            ReturnRow {
                setting,
                ward_code: known.map(|s| s.ward_code.clone()).unwrap_or_default(),
                specialty_code: known.map(|s| s.specialty_code.clone()).unwrap_or_default(),
                service,
                mode,
                counts: a.fft,
            }
        })
        .collect();
    Ok((out, counted))
}

/// The rows of one setting's CSV: inpatients by ward, specialty and service; the other
/// settings per site (their services merged); both by mode.
pub fn setting_rows(all: &[ReturnRow], setting: FftSetting) -> Vec<ReturnRow> {
    let mut merged: BTreeMap<(String, String, String, &'static str), [u64; 6]> = BTreeMap::new();
    for r in all.iter().filter(|r| r.setting == Some(setting)) {
        let key = if setting.by_ward() {
            (
                r.ward_code.clone(),
                r.specialty_code.clone(),
                r.service.clone(),
                r.mode,
            )
        } else {
            (String::new(), String::new(), String::new(), r.mode)
        };
        let c = merged.entry(key).or_default();
        for (x, y) in c.iter_mut().zip(r.counts) {
            *x += y;
        }
    }
    merged
        .into_iter()
        .map(
            |((ward_code, specialty_code, service, mode), counts)| ReturnRow {
                setting: Some(setting),
                service,
                ward_code,
                specialty_code,
                mode,
                counts,
            },
        )
        .collect()
}

/// The header of one setting's CSV.
pub fn setting_header(setting: FftSetting) -> Vec<&'static str> {
    let mut h = vec!["Period", "Organisation code", "Site code", "Setting"];
    if setting.by_ward() {
        h.extend(["Ward code", "Specialty code", "Service"]);
    }
    h.extend(ANSWERS);
    h.extend(["Total responses", "Mode of collection"]);
    h
}

/// One setting's CSV.
pub fn setting_csv(
    month: &str,
    site: Option<&Site>,
    setting: FftSetting,
    rows: &[ReturnRow],
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(setting_header(setting))?;
    for r in rows {
        let mut rec = vec![
            month.to_string(),
            crate::csv_out::safe_cell(site.map_or("", |s| s.org_code.as_str())),
            crate::csv_out::safe_cell(site.map_or("", |s| s.site_code.as_str())),
            setting.label().to_string(),
        ];
        if setting.by_ward() {
            rec.push(crate::csv_out::safe_cell(&r.ward_code));
            rec.push(crate::csv_out::safe_cell(&r.specialty_code));
            rec.push(crate::csv_out::safe_cell(&r.service));
        }
        rec.extend(r.counts.iter().map(u64::to_string));
        rec.push(r.total().to_string());
        rec.push(r.mode.to_string());
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// What publication would do to one figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Published as it is.
    Shown,
    /// Suppressed: fewer than 5 (but not none).
    Small,
    /// Suppressed so that a small one beside it cannot be worked out.
    Secondary,
}

/// The preview of one setting's rows: per row, the six answers' and the total's fate; and for
/// each group of more than one mode, its totals over the modes and their fate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    /// Per row, per answer.
    pub cells: Vec<[Shown; 6]>,
    /// Per row, its total.
    pub totals: Vec<Shown>,
    /// The totals over the modes of each group with more than one row.
    pub groups: Vec<GroupTotals>,
}

/// A group's totals over its modes (a published row of their own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupTotals {
    /// The index of the group's last row (the totals follow it).
    pub after: usize,
    /// Per answer, over the modes.
    pub counts: [u64; 6],
    /// Each one's fate.
    pub cells: [Shown; 6],
    /// The group's total and its fate.
    pub total: (u64, Shown),
}

/// Which cells publication would suppress. The published table is taken to be the rows as
/// in the CSV, grouped (a ward, or the site) with each group's rows by mode: every row's total,
/// and, for a group of more than one mode, each answer's total over its modes and the group's
/// total. Counts of 1 to 4 are suppressed, totals included; then
/// `chorus_core::suppress::protect` hides what else must go so no suppressed count can be had
/// from the figures left (totals it withdraws are marked as secondary). Groups share no cell,
/// so each is protected on its own.
pub fn preview(rows: &[ReturnRow]) -> Preview {
    let small = |n: u64| (1..chorus_core::aggregate::SUPPRESS_BELOW).contains(&n);
    let fate = |value: u64, published: bool| {
        if small(value) {
            Shown::Small
        } else if !published {
            Shown::Secondary
        } else {
            Shown::Shown
        }
    };
    let mut cells = vec![[Shown::Shown; 6]; rows.len()];
    let mut totals = vec![Shown::Shown; rows.len()];
    let mut group_totals = Vec::new();
    let mut groups: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        groups
            .entry((&r.ward_code, &r.specialty_code, &r.service))
            .or_default()
            .push(i);
    }
    for members in groups.values() {
        // Cells: member m's answer a is m * 6 + a.
        let values: Vec<u64> = members.iter().flat_map(|&i| rows[i].counts).collect();
        let primary: Vec<bool> = values.iter().map(|&v| small(v)).collect();
        let mut sums: Vec<Vec<usize>> = Vec::new();
        let mut published = Vec::new();
        for (m, &i) in members.iter().enumerate() {
            sums.push((m * 6..m * 6 + 6).collect());
            published.push(!small(rows[i].total()));
        }
        let mut over_modes = [0u64; 6];
        if members.len() > 1 {
            for (a, t) in over_modes.iter_mut().enumerate() {
                let column: Vec<usize> = (0..members.len()).map(|m| m * 6 + a).collect();
                *t = column.iter().map(|&j| values[j]).sum();
                sums.push(column);
                published.push(!small(*t));
            }
            sums.push((0..values.len()).collect());
            published.push(!small(values.iter().sum()));
        }
        let p = chorus_core::suppress::protect(&values, &primary, &sums, &published);
        for (m, &i) in members.iter().enumerate() {
            for (a, cell) in cells[i].iter_mut().enumerate() {
                let j = m * 6 + a;
                *cell = match (primary[j], p.hidden[j]) {
                    (true, _) => Shown::Small,
                    (false, true) => Shown::Secondary,
                    _ => Shown::Shown,
                };
            }
            totals[i] = fate(rows[i].total(), p.published[m]);
        }
        if members.len() > 1 {
            let k = members.len();
            let whole: u64 = values.iter().sum();
            group_totals.push(GroupTotals {
                after: *members.last().unwrap_or(&0),
                counts: over_modes,
                cells: std::array::from_fn(|a| fate(over_modes[a], p.published[k + a])),
                total: (whole, fate(whole, p.published[k + 6])),
            });
        }
    }
    Preview {
        cells,
        totals,
        groups: group_totals,
    }
}

/// Easter Sunday (the anonymous Gregorian algorithm).
fn easter(year: i32) -> Date {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::from_calendar_date(
        year,
        if month == 3 {
            Month::March
        } else {
            Month::April
        },
        day as u8,
    )
    .unwrap_or(Date::MIN)
}

fn weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn nth_monday(year: i32, month: Month, from_end: bool) -> Date {
    let mut d = if from_end {
        Date::from_calendar_date(year, month, month.length(year))
    } else {
        Date::from_calendar_date(year, month, 1)
    }
    .unwrap_or(Date::MIN);
    while d.weekday() != Weekday::Monday {
        d = if from_end {
            d - Duration::days(1)
        } else {
            d + Duration::days(1)
        };
    }
    d
}

/// The bank holidays of England and Wales in `year`: New Year's Day, Good Friday, Easter
/// Monday, the early May, spring and summer bank holidays, Christmas Day and Boxing Day (a
/// day falling on a weekend is replaced by the next weekday that is not already one), with the
/// one-off changes of 2020 (early May moved to Friday 8 May), 2022 (spring moved to 2 June,
/// 3 June for the Platinum Jubilee, 19 September for the State Funeral) and 2023 (8 May for
/// the Coronation).
pub fn bank_holidays(year: i32) -> Vec<Date> {
    let ymd = |m: Month, d: u8| Date::from_calendar_date(year, m, d).unwrap_or(Date::MIN);
    let mut out = Vec::new();
    let substitute = |day: Date, out: &mut Vec<Date>| {
        let mut d = day;
        while weekend(d) || out.contains(&d) {
            d += Duration::days(1);
        }
        out.push(d);
    };
    substitute(ymd(Month::January, 1), &mut out);
    let e = easter(year);
    out.push(e - Duration::days(2));
    out.push(e + Duration::days(1));
    out.push(match year {
        2020 => ymd(Month::May, 8),
        _ => nth_monday(year, Month::May, false),
    });
    out.push(match year {
        2022 => ymd(Month::June, 2),
        _ => nth_monday(year, Month::May, true),
    });
    out.push(nth_monday(year, Month::August, true));
    match year {
        2022 => out.extend([ymd(Month::June, 3), ymd(Month::September, 19)]),
        2023 => out.push(ymd(Month::May, 8)),
        _ => {}
    }
    // Christmas and Boxing Day: weekday ones first, so a substitute never lands on them.
    let (christmas, boxing) = (ymd(Month::December, 25), ymd(Month::December, 26));
    for d in [christmas, boxing] {
        if !weekend(d) {
            out.push(d);
        }
    }
    for d in [christmas, boxing] {
        if weekend(d) {
            substitute(d, &mut out);
        }
    }
    out.sort();
    out
}

/// Is `d` a working day (Monday to Friday, not a bank holiday in England and Wales)?
pub fn working_day(d: Date) -> bool {
    !weekend(d) && !bank_holidays(d.year()).contains(&d)
}

/// The last day to submit the return for `month` (`YYYY-MM`): the [`WORKING_DAY`]th working
/// day of the month after. The same rule for every setting today (see the module's note).
pub fn deadline(month: &str, _setting: FftSetting) -> Option<Date> {
    let (first, _) = super::reports::month_days(month)?;
    let y: i32 = first.get(..4)?.parse().ok()?;
    let m: u8 = first.get(5..7)?.parse().ok()?;
    let next = Month::try_from(m).ok()?.next();
    let year = if next == Month::January { y + 1 } else { y };
    let mut d = Date::from_calendar_date(year, next, 1).ok()?;
    let mut n = 0;
    loop {
        if working_day(d) {
            n += 1;
            if n == WORKING_DAY {
                return Some(d);
            }
        }
        d += Duration::days(1);
    }
}

/// Where a setting's return is submitted: NHS England's Strategic Data Collection Service
/// (SDCS) for trusts, the Calculating Quality Reporting Service (CQRS) for practices.
pub fn submitted_through(setting: FftSetting) -> &'static str {
    match setting {
        FftSetting::Gp | FftSetting::Dental => "CQRS",
        _ => "SDCS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn bank_holidays_follow_the_published_dates() {
        // As published for England and Wales.
        assert_eq!(
            bank_holidays(2026),
            [
                date!(2026 - 01 - 01),
                date!(2026 - 04 - 03),
                date!(2026 - 04 - 06),
                date!(2026 - 05 - 04),
                date!(2026 - 05 - 25),
                date!(2026 - 08 - 31),
                date!(2026 - 12 - 25),
                date!(2026 - 12 - 28),
            ]
        );
        // Christmas on a Saturday: Monday 27 and Tuesday 28; New Year on a Saturday: Monday 3.
        let h2021 = bank_holidays(2021);
        assert!(h2021.contains(&date!(2021 - 12 - 27)) && h2021.contains(&date!(2021 - 12 - 28)));
        assert!(bank_holidays(2022).contains(&date!(2022 - 01 - 03)));
        // Christmas on a Sunday: Boxing Day Monday 26, Christmas Tuesday 27.
        let h2022 = bank_holidays(2022);
        assert!(h2022.contains(&date!(2022 - 12 - 26)) && h2022.contains(&date!(2022 - 12 - 27)));
        assert!(h2022.contains(&date!(2022 - 06 - 02)) && !h2022.contains(&date!(2022 - 05 - 30)));
        assert!(bank_holidays(2020).contains(&date!(2020 - 05 - 08)));
        assert!(!bank_holidays(2020).contains(&date!(2020 - 05 - 04)));
        assert_eq!(easter(2025), date!(2025 - 04 - 20));
        assert_eq!(easter(2027), date!(2027 - 03 - 28));
    }

    #[test]
    fn the_deadline_is_the_twelfth_working_day_of_the_month_after() {
        // November 2026: December 2026 starts on a Tuesday; no holiday before the 25th.
        assert_eq!(
            deadline("2026-11", FftSetting::Inpatient),
            Some(date!(2026 - 12 - 16))
        );
        // December 2026: 1 January 2027 (a Friday) is a holiday, so the count starts on the 4th.
        assert_eq!(
            deadline("2026-12", FftSetting::Gp),
            Some(date!(2027 - 01 - 19))
        );
        // March 2027: Easter Monday 29 March is in March; April 2027 has no holiday.
        assert_eq!(
            deadline("2027-03", FftSetting::Ae),
            Some(date!(2027 - 04 - 16))
        );
        // March 2026: Good Friday 3 April and Easter Monday 6 April are skipped.
        assert_eq!(
            deadline("2026-03", FftSetting::Maternity),
            Some(date!(2026 - 04 - 20))
        );
        assert_eq!(deadline("2026-13", FftSetting::Ae), None);
    }

    fn row(ward: &str, mode: &'static str, counts: [u64; 6]) -> ReturnRow {
        ReturnRow {
            setting: Some(FftSetting::Inpatient),
            service: ward.into(),
            ward_code: ward.into(),
            specialty_code: "300".into(),
            mode,
            counts,
        }
    }

    /// Every whole, non-negative filling of the hidden cells that agrees with everything the
    /// preview leaves published: returns the small hidden counts with only one possible value
    /// (a reader could work them out). A hidden cell in no published total could be anything;
    /// one in some is at most the smallest of them, which bounds the search.
    fn solvable_cells(rows: &[ReturnRow], p: &Preview) -> Vec<(usize, usize)> {
        let shown = |s: Shown| s == Shown::Shown;
        let group_of = |i: usize| (&rows[i].ward_code, &rows[i].service);
        // Published totals: (cells, value).
        let mut sums: Vec<(Vec<(usize, usize)>, u64)> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            if shown(p.totals[i]) {
                sums.push(((0..6).map(|a| (i, a)).collect(), r.total()));
            }
        }
        for g in &p.groups {
            let members: Vec<usize> = (0..rows.len())
                .filter(|&i| group_of(i) == group_of(g.after))
                .collect();
            for a in 0..6 {
                if shown(g.cells[a]) {
                    sums.push((members.iter().map(|&i| (i, a)).collect(), g.counts[a]));
                }
            }
            if shown(g.total.1) {
                sums.push((
                    members
                        .iter()
                        .flat_map(|&i| (0..6).map(move |a| (i, a)))
                        .collect(),
                    g.total.0,
                ));
            }
        }
        let hidden: Vec<(usize, usize)> = (0..rows.len())
            .flat_map(|i| (0..6).map(move |a| (i, a)))
            .filter(|&(i, a)| !shown(p.cells[i][a]))
            .collect();
        let bounds: Vec<Option<u64>> = hidden
            .iter()
            .map(|h| {
                sums.iter()
                    .filter(|(c, _)| c.contains(h))
                    .map(|(_, v)| *v)
                    .min()
            })
            .collect();
        // Enumerate only the bounded cells; the others are free.
        let searched: Vec<usize> = (0..hidden.len()).filter(|&k| bounds[k].is_some()).collect();
        let mut guess = vec![0u64; searched.len()];
        let mut seen: Vec<std::collections::BTreeSet<u64>> =
            vec![Default::default(); searched.len()];
        let value = |g: &[u64], cell: (usize, usize)| -> Option<u64> {
            match hidden.iter().position(|&h| h == cell) {
                None => Some(rows[cell.0].counts[cell.1]),
                Some(k) => searched.iter().position(|&s| s == k).map(|j| g[j]),
            }
        };
        'all: loop {
            let agrees = sums.iter().all(|(cells, total)| {
                // A total with a free cell in it can always be met.
                let vals: Option<Vec<u64>> = cells.iter().map(|&c| value(&guess, c)).collect();
                vals.is_none_or(|v| v.iter().sum::<u64>() == *total)
            });
            if agrees {
                for (j, v) in guess.iter().enumerate() {
                    seen[j].insert(*v);
                }
            }
            let mut j = 0;
            loop {
                if j == guess.len() {
                    break 'all;
                }
                guess[j] += 1;
                if guess[j] <= bounds[searched[j]].unwrap_or(0) {
                    break;
                }
                guess[j] = 0;
                j += 1;
            }
        }
        searched
            .iter()
            .zip(&seen)
            .map(|(&k, vals)| (hidden[k], vals.len()))
            .filter(|((i, a), n)| p.cells[*i][*a] == Shown::Small && *n < 2)
            .map(|(h, _)| h)
            .collect()
    }

    #[test]
    fn the_check_finds_a_count_left_open_to_subtraction() {
        // Poor = 2 hidden, everything else shown with the row total: 2 = 8 - 6.
        let rows = [row("W1", "Online", [6, 0, 0, 2, 0, 0])];
        let mut p = preview(&rows);
        p.cells[0] = [
            Shown::Shown,
            Shown::Shown,
            Shown::Shown,
            Shown::Small,
            Shown::Shown,
            Shown::Shown,
        ];
        assert_eq!(solvable_cells(&rows, &p), [(0, 3)]);
    }

    #[test]
    fn no_suppressed_count_can_be_worked_out_from_the_preview() {
        let tables: Vec<Vec<ReturnRow>> = vec![
            vec![row("W1", "Online", [6, 0, 0, 2, 0, 0])],
            vec![
                row("W1", "Online", [7, 0, 0, 0, 0, 0]),
                row("W1", "Paper", [6, 0, 0, 2, 0, 0]),
            ],
            vec![
                row("W2", "Online", [5, 2, 0, 0, 0, 0]),
                row("W2", "SMS", [0, 3, 0, 0, 0, 0]),
            ],
            vec![
                row("W3", "Online", [5, 1, 0, 0, 0, 0]),
                row("W3", "Paper", [5, 0, 0, 0, 0, 0]),
            ],
        ];
        for rows in &tables {
            let p = preview(rows);
            assert!(p.cells.iter().flatten().any(|s| *s == Shown::Small));
            assert_eq!(solvable_cells(rows, &p), [], "{rows:?} {p:?}");
        }
    }

    #[test]
    fn the_preview_hides_small_counts_and_what_would_give_them_away() {
        use self::Shown::{Secondary, Small};
        let shown = self::Shown::Shown;
        // One mode: poor = 2 is small; its row total 20 is published, so one more cell of the
        // row goes (the smallest shown: a zero, which then leaves two unknowns summing to 2).
        let p = preview(&[row("W1", "Online", [10, 8, 0, 2, 0, 0])]);
        assert_eq!(p.cells[0][3], Small);
        assert_eq!(p.cells[0].iter().filter(|s| **s == Secondary).count(), 1);
        assert_eq!(p.totals[0], shown);
        // A row of 3 responses: its total is small too.
        let p = preview(&[row("W2", "Paper", [3, 0, 0, 0, 0, 0])]);
        assert_eq!((p.cells[0][0], p.totals[0]), (Small, Small));
        // Nothing small: nothing hidden.
        let p = preview(&[
            row("W3", "Online", [10, 8, 5, 6, 0, 0]),
            row("W3", "SMS", [7, 5, 0, 0, 0, 0]),
        ]);
        assert!(p.cells.iter().flatten().all(|s| *s == shown));
        // Two modes: the small paper "good" is protected against both its row total and the
        // good total over modes.
        let rows = [
            row("W4", "Online", [10, 8, 5, 6, 0, 0]),
            row("W4", "Paper", [9, 2, 0, 0, 0, 0]),
        ];
        let p = preview(&rows);
        assert_eq!(p.cells[1][1], Small);
        let hidden = |r: usize| p.cells[r].iter().filter(|s| **s != shown).count();
        assert!(hidden(1) >= 2 && hidden(0) >= 1, "{p:?}");
    }
}
