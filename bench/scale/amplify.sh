#!/usr/bin/env bash
# Amplify a database seeded by `chorus seed` to N times its responses, in the database itself
# (issue 17's 10 million run: seeding 10 M through `chorus seed` takes 1-2 hours per database
# on the 2-core machine). See bench/scale/README.md for the whole route.
#
#   bench/scale/amplify.sh sqlite   /path/to/reports.db       9        # copies 1..9
#   bench/scale/amplify.sh postgres postgres://…/chorus_scale 39 4     # copies 4..39
#
# M is the number of responses seeded (the seeded ids are 1..M; BASE=M in the environment if
# some copies are already there). Copy k (FIRST..COPIES, FIRST 1 by default) of every seeded
# response gets:
#   id              id + k*M       (so its receipt reference, a function of the id, is new)
#   idempotency_key key || '~k'    (unique per site, as the schema demands)
#   received_at     moved back k*2 hours (the 12 months hold COPIES+1 times the responses)
#   withdraw_hash   NULL           (a withdrawal code identifies one response, never 10)
#   everything else as seeded (site, service, instrument, answers, scores, mode, About you).
# Rows keyed by response that the server wrote for the seeded responses are copied with the
# response id moved the same way: comment_themes, comment_classified, comment_flags,
# flag_reviews, comment_tags, and on PostgreSQL comment_search (its tsvector is regenerated).
# SQLite's comment_search is contentless FTS5 (no text to copy): the copies are marked for the
# server's own indexing of older responses (comment_search_backfill, from the last id before
# this run), which runs when
# `chorus serve` starts. Rollups and theme rollups are NOT touched here: run
# `chorus rollup rebuild` afterwards, then `chorus rollup check`.
set -euo pipefail
backend=$1 db=$2 copies=${3:-9} first=${4:-1}
cols="site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, client_scores, score_mismatch, received_at, mode, about, withdraw_hash"
t0=$(date +%s)
say() { echo "[$(($(date +%s) - t0)) s] $*"; }
# The rows keyed by response id, for copy $1 (the same SQL on both backends).
keyed() {
    local k=$1 t
    for t in "comment_themes:theme, sentiment, evidence, source, state, updated_by, updated_at" \
        "comment_classified:has_text, at" "comment_flags:kind, evidence, flagged_at" \
        "flag_reviews:outcome, user_id, reviewer, reviewed_at" "comment_tags:tag, added_by, added_at"; do
        echo "INSERT INTO ${t%%:*} (response_id, ${t#*:}) SELECT response_id + $k * $m, ${t#*:}
              FROM ${t%%:*} WHERE response_id <= $m ORDER BY response_id;"
    done
}

case $backend in
sqlite)
    q() { sqlite3 -bail "$db" "$@"; }
    m=${BASE:-$(q "SELECT max(id) FROM responses")}
    before=$(q "SELECT max(id) FROM responses")
    say "seeded responses: ids 1..$m; copies $first..$copies"
    for k in $(seq "$first" "$copies"); do
        q "PRAGMA cache_size = -1000000; BEGIN;
           INSERT INTO responses (id, $cols)
           SELECT id + $k * $m, site, service, instrument, version, locale,
                  idempotency_key || '~$k', body_hash, answers, scores, client_scores,
                  score_mismatch,
                  strftime('%Y-%m-%dT%H:%M:%fZ', received_at, '-$((2 * k)) hours'),
                  mode, about, NULL
           FROM responses WHERE id <= $m ORDER BY id;
           $(keyed "$k")
           COMMIT;
           PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
        say "copy $k done"
    done
    # The copies' free text is indexed by the server (the same code as for responses stored
    # before search existed), from id M+1 to the last.
    q "UPDATE comment_search_backfill SET indexed_to = $before, upto = (SELECT max(id) FROM responses) WHERE id = 1"
    q "SELECT 'responses', count(*) FROM responses; SELECT 'comment_themes', count(*) FROM comment_themes;
       SELECT 'comment_classified', count(*) FROM comment_classified; SELECT 'comment_flags', count(*) FROM comment_flags;
       SELECT 'sqlite_sequence', seq FROM sqlite_sequence WHERE name = 'responses';
       SELECT 'backfill', indexed_to, upto FROM comment_search_backfill"
    ;;
postgres)
    q() { psql "$db" -v ON_ERROR_STOP=1 -qAtc "$@"; }
    m=${BASE:-$(q "SELECT max(id) FROM responses")}
    say "seeded responses: ids 1..$m; copies $first..$copies"
    # Bulk load the usual way: the secondary indexes of the tables copied into (and the
    # idempotency key's unique constraint) are dropped first and made again afterwards, from
    # their own definitions, so the schema ends exactly as the migrations made it.
    defs=$(q "SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY c.relname)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid IN ('responses'::regclass, 'comment_search'::regclass, 'comment_themes'::regclass)
                AND NOT i.indisprimary
                AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)")
    drops=$(q "SELECT string_agg('DROP INDEX ' || c.relname, '; ')
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid IN ('responses'::regclass, 'comment_search'::regclass, 'comment_themes'::regclass)
                AND NOT i.indisprimary
                AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)")
    unique=$(q "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'responses_site_idempotency_key_key'")
    say "indexes to make again: $defs; and $unique"
    q "$drops; ALTER TABLE responses DROP CONSTRAINT responses_site_idempotency_key_key"
    for k in $(seq "$first" "$copies"); do
        q "BEGIN;
           INSERT INTO responses (id, $cols)
           SELECT id + $k * $m, site, service, instrument, version, locale,
                  idempotency_key || '~$k', body_hash, answers, scores, client_scores,
                  score_mismatch,
                  to_char((received_at::timestamptz - interval '$((2 * k)) hours') AT TIME ZONE 'UTC',
                          'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
                  mode, about, NULL
           FROM responses WHERE id <= $m ORDER BY id;
           $(keyed "$k")
           INSERT INTO comment_search (response_id, body, config)
           SELECT response_id + $k * $m, body, config FROM comment_search WHERE response_id <= $m ORDER BY response_id;
           COMMIT;"
        say "copy $k done"
    done
    say "making the indexes again"
    q "SET maintenance_work_mem = '1GB'; ALTER TABLE responses ADD CONSTRAINT responses_site_idempotency_key_key $unique; $defs"
    q "SELECT setval('responses_id_seq', (SELECT max(id) FROM responses))" >/dev/null
    say "vacuum analyze"
    q "VACUUM ANALYZE responses, comment_themes, comment_classified, comment_flags, comment_search"
    q "SELECT 'responses', count(*) FROM responses; SELECT 'comment_themes', count(*) FROM comment_themes;
       SELECT 'comment_classified', count(*) FROM comment_classified; SELECT 'comment_flags', count(*) FROM comment_flags;
       SELECT 'comment_search', count(*) FROM comment_search"
    ;;
*)
    echo "usage: $0 sqlite|postgres DATABASE [COPIES]" >&2
    exit 2
    ;;
esac
say "amplified"
