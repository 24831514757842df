-- One row per (kind, day, site, request_id, region) of a streamed tier; rows without a request id,
-- or (a table's) without a timestamp, are 'malformed' rows per (day, site, region): the latter on the
-- date of their partition (untimed_day), as a file line without one is on its folder's. So is a table's row
-- with a timestamp and an untimed_day, partitioned further than the margin from its time: the final tier has
-- no out-of-window column (a file record in a folder that cannot hold it has one). Parameters as in
-- load-records.sql, and $site_header: true for Kafka, whose site is a header that a message either has
-- or not. There an empty or blank header is present, and names no site: unroutable, as the sink filters
-- keep only their own site or no header at all. A table's column (and a file's field) cannot tell a
-- header sent empty from none (an access log writes "" for a header that was not sent): empty is none.
-- tags, hashes: the compared fields' tags of a row and of an id (src/engine/compare-sql.ts;
-- NULL without `compare`).
CREATE OR REPLACE TABLE {{agg_table}} AS
WITH parsed AS (
  SELECT region, ts_ms, untimed_day,
    CASE WHEN ts_ms IS NULL OR untimed_day IS NOT NULL OR regexp_full_match(rid, '\s*') THEN NULL ELSE rid END AS rid,
    nullif(upper(trim(site_raw, ' ')), '') AS site_value, site_raw IS NOT NULL AS site_sent, in_flight, n,
    {{tags}} AS tags
  FROM {{raw_table}}
),
dated AS (
  SELECT *,
    CASE WHEN untimed_day IS NOT NULL THEN CAST(untimed_day AS DATE)
         WHEN ts_ms // 900000 - $first_bucket BETWEEN 0 AND $bucket_count - 1
         THEN CAST($bucket_days AS DATE[])[CASE WHEN len($zone_base) = 1 THEN 0
                                                ELSE $zone_base[coalesce(list_position($sites, site_value), 0) + 1] END
                                           + ts_ms // 900000 - $first_bucket + 1] END AS day
  FROM parsed
)
SELECT
  CASE WHEN rid IS NULL THEN 'malformed' ELSE 'record' END AS kind,
  day,
  CASE WHEN list_contains($sites, site_value) THEN site_value ELSE 'UNKNOWN' END AS site,
  rid,
  region,
  CAST(sum(n) AS BIGINT) AS n,
  bool_and(in_flight) AS in_flight,
  -- every copy's header named no site (a copy some filter keeps should have landed)
  bool_and(CASE WHEN $site_header THEN site_sent AND (site_value IS NULL OR NOT list_contains($sites, site_value))
               ELSE site_value IS NOT NULL AND NOT list_contains($sites, site_value) END) AS unroutable,
  {{hashes}} AS hashes
FROM dated
WHERE day IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;
