-- The SQL the equality page (/dashboard/equality?site=demo, all time) runs on PostgreSQL:
-- chorus_store::rollup::Store::rollups with Part::About (one REPEATABLE READ snapshot), after
-- the filter form's reads. Instruments: every FFT instrument (report_instruments(Equality)).
-- psql "$URL" -f bench/scale/explain-equality.sql
BEGIN ISOLATION LEVEL REPEATABLE READ;
PREPARE dirty(text, text, text, text, text, text, text) AS
  SELECT site, service, instrument, version, locale, mode, day FROM rollup_dirty
  WHERE site = $1 AND instrument IN ($2, $3, $4, $5, $6, $7);
PREPARE months(text, text, text, text, text, text, text) AS
  SELECT site, service, instrument, version, locale, mode, day, about FROM rollups
  WHERE site = $1 AND instrument IN ($2, $3, $4, $5, $6, $7) AND length(day) = 7;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE dirty('demo', 'fft-ae', 'fft-community', 'fft-inpatient', 'fft-maternity', 'fft-outpatient', 'fft-mental-health');
EXPLAIN (ANALYZE, BUFFERS) EXECUTE months('demo', 'fft-ae', 'fft-community', 'fft-inpatient', 'fft-maternity', 'fft-outpatient', 'fft-mental-health');
SELECT count(*) AS month_rows, sum(length(about)) AS about_bytes FROM rollups
  WHERE site = 'demo' AND instrument LIKE 'fft-%' AND length(day) = 7;
SELECT count(*) AS all_rollup_rows FROM rollups;
COMMIT;
