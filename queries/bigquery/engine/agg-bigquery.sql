-- engine: bigquery. The landed table's rows of the batch, aggregated where they lie: one row per
-- (kind, day, site, request_id); rows without a request id are 'malformed' rows per (day, site).
-- Parameters as in agg-proxy.sql. The table may be native or external (over the GCS prefixes,
-- hive-partitioned so that the partition filter prunes objects). tags, hashes: the compared fields'
-- tags of a row and of an id (src/engine/compare-sql.ts; empty without `compare`).
CREATE OR REPLACE TABLE {{target}} AS
WITH parsed AS (
  SELECT
    UNIX_MILLIS({{ts}}) AS ts_ms,
    IF(REGEXP_CONTAINS(CAST({{request_id}} AS STRING), r'^\s*$'), NULL, CAST({{request_id}} AS STRING)) AS rid,
    NULLIF(UPPER(TRIM(CAST({{site}} AS STRING), ' ')), '') AS site_value,
    {{tags}} AS tags
  FROM {{table}}
  WHERE {{partition}} BETWEEN @from_date AND @to_date
    AND {{ts}} >= @start
    AND {{ts}} < @end
),
-- each row's report day in its site's zone (engine/zoned.sql)
{{zoned}}
SELECT
  IF(rid IS NULL, 'malformed', 'record') AS kind,
  day,
  IF(known, site_value, 'UNKNOWN') AS site,
  rid,
  COUNT(*) AS n,
  LOGICAL_OR(site_value IS NOT NULL AND NOT known) AS unroutable,
  {{hashes}} AS hashes
FROM (SELECT *, site_value IN UNNEST(@sites) AS known FROM zoned WHERE day IN UNNEST(@days))
GROUP BY 1, 2, 3, 4
