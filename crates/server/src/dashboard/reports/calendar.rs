//! Dates in report filters and month labels.

use time::{Date, Month};

/// Julian day of 1970-01-01.
const EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// Days since 1970-01-01 of a date.
fn days(d: Date) -> i64 {
    i64::from(d.to_julian_day() - EPOCH_JULIAN_DAY)
}

/// `YYYY-MM-DD` (exactly: four, two and two digits) as a date from 1970 on, if it is a real one.
fn date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse::<u16>().ok())?
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(i32::from(y), month, u8::try_from(d).ok()?)
        .ok()
        .filter(|d| d.year() >= 1970)
}

/// `YYYY-MM-DD` as days since the epoch, if it is a real date (2026-02-30 is not).
pub fn parse_date(s: &str) -> Option<i64> {
    date(s).map(days)
}

/// The first and last day (`YYYY-MM-DD`) of a month written `YYYY-MM`, if it is one.
pub fn month_days(month: &str) -> Option<(String, String)> {
    let first = date(&format!("{month}-01")).filter(|_| month.len() == 7)?;
    let last = first.replace_day(first.month().length(first.year())).ok()?;
    Some((ymd(first), ymd(last)))
}

/// The calendar month before the one `secs` (since the epoch) falls in, as `YYYY-MM`.
pub fn month_before(secs: i64) -> String {
    let today = time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    let m = today.month().previous();
    let y = if m == Month::December {
        today.year() - 1
    } else {
        today.year()
    };
    format!("{y:04}-{:02}", u8::from(m))
}

fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// "2026-06" → "Jun 2026".
pub fn month_label(ym: &str) -> String {
    const M: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match (
        ym.get(..4),
        ym.get(5..7).and_then(|m| m.parse::<usize>().ok()),
    ) {
        (Some(y), Some(m)) if (1..=12).contains(&m) => format!("{} {y}", M[m - 1]),
        _ => ym.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-2-3"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn months() {
        assert_eq!(
            month_days("2024-02"),
            Some(("2024-02-01".into(), "2024-02-29".into()))
        );
        assert_eq!(
            month_days("2026-12"),
            Some(("2026-12-01".into(), "2026-12-31".into()))
        );
        assert_eq!(month_days("2026-13"), None);
        assert_eq!(month_days("2026-1"), None);
        assert_eq!(month_before(1_767_225_600), "2025-12"); // 2026-01-01
        assert_eq!(month_before(1_795_371_825), "2026-10"); // 2026-11-22
    }

    #[test]
    fn month_labels() {
        assert_eq!(month_label("2026-06"), "Jun 2026");
        assert_eq!(month_label("bad"), "bad");
    }
}
