-- engine: bigquery. Kafka's messages as the job loaded them (the raw placeholder's table: region, ts_ms, rid,
-- site_raw, in_flight, n), aggregated as streamed-aggregate.sql does in the embedded engine: one
-- row per (kind, day, site, request_id, region). @zone, @zone_sites, @zone_names, @days, @sites as in
-- agg-proxy.sql. tags, hashes: the compared fields' tags of a message (from its payload) and of an id
-- (src/engine/compare-sql.ts; empty without `compare`).
CREATE OR REPLACE TABLE {{target}} AS
WITH parsed AS (
  SELECT
    region,
    ts_ms,
    CAST(NULL AS STRING) AS untimed_day,
    IF(REGEXP_CONTAINS(rid, r'^\s*$'), NULL, rid) AS rid,
    NULLIF(UPPER(TRIM(site_raw, ' ')), '') AS site_value,
    site_raw IS NOT NULL AS site_sent,
    in_flight,
    n,
    {{tags}} AS tags
  FROM {{raw}}
),
-- each row's report day in its site's zone (engine/zoned.sql)
{{zoned}}
SELECT
  IF(rid IS NULL, 'malformed', 'record') AS kind,
  day,
  IF(known, site_value, 'UNKNOWN') AS site,
  rid,
  region,
  SUM(n) AS n,
  LOGICAL_AND(in_flight) AS in_flight,
  -- a header sent empty or blank names no site: unroutable, as streamed-aggregate.sql's $site_header says
  -- every copy's header named no site (a copy some filter keeps should have landed)
  LOGICAL_AND(site_sent AND (site_value IS NULL OR NOT known)) AS unroutable,
  {{hashes}} AS hashes
FROM (SELECT *, site_value IN UNNEST(@sites) AS known FROM zoned WHERE day IN UNNEST(@days))
GROUP BY 1, 2, 3, 4, 5
