-- engine: bigquery. The proxy table's rows of the batch, classified as load-records.sql classifies
-- proxy log lines, aggregated where they lie: one row per (kind, day, site, request_id) for
-- records, one per (kind, day, site) for malformed rows (no request id, no usable status, or no timestamp:
-- on the date of its partition) and out-of-window ones (partitioned further than the margin from their time).
-- Parameters:
--   @start, @end          TIMESTAMP, the batch's first midnight and last midnight (exclusive), in the zone
--   @from_date, @to_date  DATE, the partition filter: the UTC dates of the window widened by partitionMarginDays
--   @zone                 STRING, the IANA zone days are cut in, but for the sites that have their own:
--   @zone_sites, @zone_names  ARRAY<STRING>, those sites and their zones, pairwise (empty: none)
--   @days                 ARRAY<STRING>, the batch's report days (YYYY-MM-DD)
--   @sites                ARRAY<STRING>, configured site codes
CREATE OR REPLACE TABLE {{target}} AS
WITH parsed AS (
  SELECT
    UNIX_MILLIS({{ts}}) AS ts_ms,
    -- a row without a timestamp is malformed on its partition's date, as a log line without one on its folder's;
    -- one partitioned further than the margin from its timestamp's date is out of window there (landed-rows.sql)
    {{placed_day}} AS untimed_day,
    -- kept byte for byte; empty or only whitespace is no id (RE2's \s, as the embedded engine's regexp_full_match)
    IF(REGEXP_CONTAINS(CAST({{request_id}} AS STRING), r'^\s*$'), NULL, CAST({{request_id}} AS STRING)) AS rid,
    NULLIF(UPPER(TRIM(CAST({{site}} AS STRING), ' ')), '') AS site_value,
    {{status_value}} AS status
  FROM {{table}}
  WHERE {{rows_window}}
),
-- each row's report day in its site's zone (engine/zoned.sql)
{{zoned}},
classified AS (
  SELECT *,
    IF(rid IS NULL OR status IS NULL OR ts_ms IS NULL, 'malformed', IF(untimed_day IS NULL, 'record', 'out_of_window'))
      AS kind,
    site_value IN UNNEST(@sites) AS known
  FROM zoned
  WHERE day IN UNNEST(@days)
)
SELECT
  kind,
  day,
  IF(known, site_value, 'UNKNOWN') AS site,
  IF(kind = 'record', rid, NULL) AS rid,
  COUNT(*) AS n,
  COUNTIF(status BETWEEN 200 AND 299) AS ok_lines,
  -- the earliest accepted line's instant (epoch ms): the missing list's accepted_at
  MIN(IF(status BETWEEN 200 AND 299, ts_ms, NULL)) AS accepted_ms,
  COUNTIF(status = 413) AS lines_413,
  COUNTIF(status = 502) AS lines_502,
  -- every accepted copy's header named no configured site, as the embedded engine's (NULL: none accepted)
  LOGICAL_AND(IF(status BETWEEN 200 AND 299, site_value IS NOT NULL AND NOT known, NULL)) AS unroutable,
  -- the last non-2xx status by timestamp, then by status, as the embedded engine picks it: both
  -- packed into one integer so that MAX picks it. Milliseconds since @start keep it below 2^53
  -- (exact even where arithmetic goes through a double, as in the emulator); a status outside
  -- 0..9999 is no 413 or 502 either way, so clamping it changes no class.
  MOD(MAX(IF(status BETWEEN 200 AND 299, NULL, (ts_ms - UNIX_MILLIS(@start)) * 10000 + LEAST(GREATEST(status, 0), 9999))), 10000) AS last_reject
FROM classified
GROUP BY kind, day, site, rid
