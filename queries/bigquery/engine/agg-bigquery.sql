-- engine: bigquery. The landed table's rows of the batch, aggregated where they lie: one row per
-- (kind, day, site, request_id); rows without a request id are 'malformed' rows per (day, site).
-- Parameters as in agg-proxy.sql. The table may be native or external (over the GCS prefixes,
-- hive-partitioned so that the partition filter prunes objects).
CREATE OR REPLACE TABLE {{target}} AS
WITH parsed AS (
  SELECT
    FORMAT_DATE('%F', DATE({{ts}}, @zone)) AS day,
    IF(REGEXP_CONTAINS(CAST({{request_id}} AS STRING), r'^\s*$'), NULL, CAST({{request_id}} AS STRING)) AS rid,
    NULLIF(UPPER(TRIM(CAST({{site}} AS STRING))), '') AS site_value
  FROM {{table}}
  WHERE {{partition}} BETWEEN @from_date AND @to_date
    AND {{ts}} >= @start
    AND {{ts}} < @end
)
SELECT
  IF(rid IS NULL, 'malformed', 'record') AS kind,
  day,
  IF(known, site_value, 'UNKNOWN') AS site,
  rid,
  COUNT(*) AS n,
  LOGICAL_OR(site_value IS NOT NULL AND NOT known) AS unroutable
FROM (SELECT *, site_value IN UNNEST(@sites) AS known FROM parsed WHERE day IN UNNEST(@days))
GROUP BY 1, 2, 3, 4
