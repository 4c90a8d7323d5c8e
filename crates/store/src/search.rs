//! Full-text search of the stored free text (already redacted): SQLite FTS5 with Porter
//! stemming, PostgreSQL `tsvector` with the English configuration (and `simple` for Welsh and
//! other languages, which PostgreSQL has no dictionary for). Tables and the deletion trigger
//! are in migration 0012; the writer indexes each new response in its own transaction
//! ([`index`]); responses stored before that migration are indexed by
//! [`Store::backfill_search`] after the server starts.
//!
//! What staff type is never spliced into SQL: it is split into words, and each word is bound
//! as a value (SQLite: a quoted FTS5 phrase; PostgreSQL: `plainto_tsquery`), so a quote, a
//! `NEAR` or a `*` in a search is a literal character, not query syntax.

use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::Store;

/// Rows indexed per statement (SQLite allows 32,766 bound values; this keeps statements short).
const CHUNK: usize = 64;

/// PostgreSQL's text search configuration for a comment in `locale`.
fn config_for(locale: &str) -> &'static str {
    if locale == "en" || locale.starts_with("en-") {
        "english"
    } else {
        "simple"
    }
}

/// Index new responses' free text: `(response id, text, locale)`, inside the caller's
/// transaction.
pub(crate) async fn index(
    conn: &mut AnyConnection,
    rows: &[(i64, &str, &str)],
    sqlite: bool,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(CHUNK) {
        let per_row = if sqlite { 2 } else { 3 };
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let p: Vec<String> = (1..=per_row)
                    .map(|c| format!("${}", r * per_row + c))
                    .collect();
                if sqlite {
                    format!("({})", p.join(", "))
                } else {
                    format!("({}, {}, CAST({} AS regconfig))", p[0], p[1], p[2])
                }
            })
            .collect();
        let sql = if sqlite {
            format!(
                "INSERT INTO comment_search (rowid, body) VALUES {}",
                values.join(", ")
            )
        } else {
            format!(
                "INSERT INTO comment_search (response_id, body, config) VALUES {} ON CONFLICT (response_id) DO NOTHING",
                values.join(", ")
            )
        };
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, text, locale) in chunk {
            q = q.bind(*id).bind(searchable(text));
            if !sqlite {
                q = q.bind(config_for(locale));
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The text as indexed: control characters (which a patient may paste, and which PostgreSQL
/// refuses in text when one is NUL) are spaces; they never separate or make a word otherwise.
fn searchable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The words of a search, at most 16 of them (letters, digits and apostrophes; everything
/// else separates words). Empty when there is nothing to look for.
pub fn words(search: &str) -> Vec<String> {
    search
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.trim_matches(['\'', '’']).is_empty())
        .take(16)
        .map(|w| w.to_lowercase())
        .collect()
}

/// The SQL condition selecting responses whose free text has every one of the words bound at
/// `$param` (one value: the words joined by spaces).
pub(crate) fn condition(param: usize, sqlite: bool) -> String {
    if sqlite {
        format!(
            "id IN (SELECT rowid FROM comment_search WHERE comment_search MATCH {})",
            format_args!("${param}")
        )
    } else {
        // Constant queries (not one per row's configuration), so the GIN index is used: a
        // comment matches if it has every word, stemmed (English) or as written (Welsh).
        format!(
            "id IN (SELECT response_id FROM comment_search WHERE terms @@ plainto_tsquery('english', ${param}) OR terms @@ plainto_tsquery('simple', ${param}))"
        )
    }
}

/// The value bound for [`condition`]: for SQLite each word a quoted FTS5 string (so nothing
/// in it is query syntax), for PostgreSQL the plain words.
pub(crate) fn bound(words: &[String], sqlite: bool) -> String {
    if sqlite {
        words
            .iter()
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        words.join(" ")
    }
}

impl Store {
    /// Index the free text of responses stored before search existed (migration 0012), oldest
    /// first, a page per transaction, recording how far it got, so a restart carries on where
    /// it stopped. `text_of(instrument, answers)` is the response's free text (the caller knows
    /// the instruments). Returns how many responses it read; 0 once everything is indexed.
    pub async fn backfill_search(
        &self,
        text_of: impl Fn(&str, &str) -> Option<String>,
    ) -> anyhow::Result<u64> {
        let mut read = 0u64;
        loop {
            let (done, upto): (i64, i64) =
                sqlx::query("SELECT indexed_to, upto FROM comment_search_backfill WHERE id = 1")
                    .fetch_optional(&self.pool)
                    .await?
                    .map_or((0, 0), |r| (r.get(0), r.get(1)));
            if done >= upto {
                return Ok(read);
            }
            let rows = sqlx::query(
                "SELECT id, instrument, answers, locale FROM responses WHERE id > $1 AND id <= $2 ORDER BY id LIMIT 500",
            )
            .bind(done)
            .bind(upto)
            .fetch_all(&self.pool)
            .await?;
            let page: Vec<(i64, String, String)> = rows
                .iter()
                .filter_map(|r| {
                    let (id, instrument, answers, locale): (i64, String, String, String) =
                        (r.get(0), r.get(1), r.get(2), r.get(3));
                    text_of(&instrument, &answers).map(|t| (id, t, locale))
                })
                .collect();
            let last = rows.last().map_or(upto, |r| r.get::<i64, _>(0));
            let mut tx = self.pool.begin().await?;
            // Another server on the same database may be doing the same: only the one that
            // moves the mark from where both read it indexes the page.
            let moved = sqlx::query(
                "UPDATE comment_search_backfill SET indexed_to = $1 WHERE id = 1 AND indexed_to = $2",
            )
            .bind(last)
            .bind(done)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 1 {
                let refs: Vec<(i64, &str, &str)> = page
                    .iter()
                    .map(|(id, t, l)| (*id, t.as_str(), l.as_str()))
                    .collect();
                index(&mut tx, &refs, self.sqlite).await?;
            }
            tx.commit().await?;
            read += rows.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_words_never_query_syntax() {
        assert_eq!(words("  Parking, RUDE!! "), ["parking", "rude"]);
        assert_eq!(words("don't \"NEAR\" a*b"), ["don't", "near", "a", "b"]);
        assert!(words(" -- ** ").is_empty());
        assert_eq!(words(&"w ".repeat(40)).len(), 16);
        assert_eq!(
            bound(&["say \"hi\"".to_string(), "x".to_string()], true),
            "\"say \"\"hi\"\"\" \"x\""
        );
        assert_eq!(bound(&["a".into(), "b".into()], false), "a b");
    }

    #[test]
    fn control_characters_are_indexed_as_spaces() {
        assert_eq!(searchable("a\u{0}b\tc\nd"), "a b c d");
    }

    #[test]
    fn welsh_and_other_languages_are_searched_as_written() {
        assert_eq!(config_for("en"), "english");
        assert_eq!(config_for("en-GB"), "english");
        assert_eq!(config_for("cy"), "simple");
    }
}
