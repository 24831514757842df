-- engine: bigquery. The landed table's rows of the batch, aggregated where they lie: one row per
-- (kind, day, site, request_id); rows without a request id, or without a timestamp (on the date of their
-- partition), are 'malformed' rows per (day, site), as are rows partitioned further than the margin from their
-- timestamp's date, on the partition's date (the final tier has no out-of-window column).
-- Parameters as in agg-proxy.sql. The table may be native or external (over the GCS prefixes,
-- hive-partitioned so that the partition filter prunes objects). tags, hashes: the compared fields'
-- tags of a row and of an id (src/engine/compare-sql.ts; empty without `compare`).
CREATE OR REPLACE TABLE {{target}} AS
WITH parsed AS (
  SELECT
    UNIX_MILLIS({{ts}}) AS ts_ms,
    -- a row without a timestamp is malformed on its partition's date, as a log line without one on its folder's;
    -- one partitioned further than the margin from its timestamp's date is out of window there (landed-rows.sql)
    {{placed_day}} AS untimed_day,
    IF(REGEXP_CONTAINS(CAST({{request_id}} AS STRING), r'^\s*$'), NULL, CAST({{request_id}} AS STRING)) AS rid,
    NULLIF(UPPER(TRIM(CAST({{site}} AS STRING), ' ')), '') AS site_value,
    {{tags}} AS tags
  FROM {{table}}
  WHERE {{rows_window}}
),
-- each row's report day in its site's zone (engine/zoned.sql)
{{zoned}}
SELECT
  IF(rid IS NULL OR ts_ms IS NULL OR untimed_day IS NOT NULL, 'malformed', 'record') AS kind,
  day,
  IF(known, site_value, 'UNKNOWN') AS site,
  IF(ts_ms IS NULL OR untimed_day IS NOT NULL, NULL, rid) AS rid,
  COUNT(*) AS n,
  LOGICAL_AND(site_value IS NOT NULL AND NOT known) AS unroutable,
  {{hashes}} AS hashes
FROM (SELECT *, site_value IN UNNEST(@sites) AS known FROM zoned WHERE day IN UNNEST(@days))
GROUP BY 1, 2, 3, 4
