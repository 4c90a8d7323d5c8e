//! The one way Chorus writes CSV for people: every export (the dashboard's downloads and
//! `chorus export`) goes through here, so a cell a spreadsheet would run as a formula is
//! defused everywhere, not only where someone remembered.

/// A cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return gets a leading apostrophe (the OWASP advice for CSV injection).
pub fn safe_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Columns of the responses export.
pub const RESPONSES_HEADER: [&str; 11] = [
    "id",
    "reference",
    "received_at",
    "site",
    "service",
    "instrument",
    "version",
    "locale",
    "answers",
    "scores",
    // Added after the first release: new columns go last, so existing spreadsheets that
    // read columns by position keep working.
    "mode",
];

/// The record for [`RESPONSES_HEADER`] of a stored response (read with its answers): every
/// text cell defused, the reference derived from the id.
pub fn response_record(r: &crate::store::Row) -> [String; 11] {
    [
        r.id.to_string(),
        crate::reference::from_id(r.id),
        safe_cell(&r.received_at),
        safe_cell(&r.site),
        safe_cell(r.service.as_deref().unwrap_or("")),
        safe_cell(&r.instrument),
        r.version.to_string(),
        safe_cell(&r.locale),
        safe_cell(&r.answers),
        safe_cell(&r.scores),
        safe_cell(&r.mode),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_defused_and_json_is_not() {
        assert_eq!(super::safe_cell("=1+1"), "'=1+1");
        assert_eq!(super::safe_cell("-x"), "'-x");
        assert_eq!(super::safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::safe_cell("{\"a\":1}"), "{\"a\":1}");
    }
}
