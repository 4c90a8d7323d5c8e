#!/usr/bin/env bash
# Load the responses `chorus seed` stored in a SQLite database (and the rows the server's
# classifier wrote for them) into a fresh PostgreSQL database, so both backends are measured
# on the same rows. Used for issue 17's 10 M run when seeding PostgreSQL through `chorus seed`
# ran at 110-300 responses/s on the shared machine (see bench/scale/README.md).
#
#   bench/scale/sqlite-to-postgres.sh /path/to/reports.db postgres://…/chorus_scale CHORUS_BIN
#
# The PostgreSQL database gets Chorus's own migrations (`chorus migrate`) and the bench's
# admin (`chorus user add`, password on stdin). Its search index is left to the server's own
# indexing of older responses (`comment_search_backfill` set to ids 0..max), and its rollups
# to `chorus rollup rebuild`: neither is copied.
set -euo pipefail
src=$1 dst=$2 bin=$3
t0=$(date +%s)
say() { echo "[$(($(date +%s) - t0)) s] $*"; }
"$bin" migrate --database "$dst"
printf '%s\n' bench-password-for-reports-42 | "$bin" user add --email bench@chorus.example --site demo --role admin --database "$dst"
# Only the seeded responses (ids up to M = max(id) now), so amplifying the SQLite database
# meanwhile changes nothing here.
m=$(sqlite3 "$src" "SELECT max(id) FROM responses")
copy() { # table, columns (the first is the response id)
    say "copying $1"
    sqlite3 -bail -csv "$src" "SELECT $2 FROM $1 WHERE ${2%%,*} <= $m ORDER BY 1" |
        psql "$dst" -v ON_ERROR_STOP=1 -qc "\\copy $1 ($2) FROM STDIN WITH (FORMAT csv)"
}
copy responses "id, site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, client_scores, score_mismatch, received_at, mode, about, withdraw_hash"
copy comment_themes "response_id, theme, sentiment, evidence, source, state, updated_by, updated_at"
copy comment_classified "response_id, has_text, at"
copy comment_flags "response_id, kind, evidence, flagged_at"
copy flag_reviews "response_id, outcome, user_id, reviewer, reviewed_at"
copy comment_tags "response_id, tag, added_by, added_at"
psql "$dst" -v ON_ERROR_STOP=1 -qAt <<'SQL'
SELECT setval('responses_id_seq', (SELECT max(id) FROM responses));
UPDATE comment_search_backfill SET indexed_to = 0, upto = (SELECT max(id) FROM responses) WHERE id = 1;
VACUUM ANALYZE responses, comment_themes, comment_classified, comment_flags;
SELECT 'responses', count(*) FROM responses;
SELECT 'comment_themes', count(*) FROM comment_themes;
SELECT 'comment_classified', count(*) FROM comment_classified;
SQL
say "loaded"
