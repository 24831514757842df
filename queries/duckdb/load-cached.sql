-- One tier's rows from its objects' aggregates (object-aggregate.sql, cached or just made): the same
-- table, row for row, as load-records.sql makes from the lines, because every decision it takes per
-- line depends on the line only through what the aggregate keeps (its 15-minute bucket, site text,
-- id key and whether it is malformed). Parameters and identifiers as in load-records.sql; the
-- aggregates are aggregates-proxy-cached.sql or aggregates-landed-cached.sql. $skip_days: report days left out.
CREATE OR REPLACE TABLE {{table}} AS
WITH cached AS (
  {{sources}}
),
dated AS (
  SELECT *,
    CASE WHEN bucket - $first_bucket BETWEEN 0 AND $bucket_count - 1
         THEN CAST($bucket_days AS DATE[])[CASE WHEN len($zone_base) = 1 THEN 0
                                                ELSE $zone_base[coalesce(list_position($sites, site_value), 0) + 1] END
                                           + bucket - $first_bucket + 1] END AS ts_day,
    bucket // 96 AS utc_epoch_day
  FROM cached
),
classified AS (
  SELECT *,
    CASE
      WHEN folder_day IS NULL AND bucket IS NOT NULL AND ts_day IS NULL THEN 'other_day'
      WHEN bad THEN 'malformed'
      WHEN folder_day IS NOT NULL AND utc_epoch_day NOT BETWEEN folder_epoch_day - $late_days AND folder_epoch_day + $clock_skew_days THEN 'out_of_window'
      WHEN ts_day IS NOT NULL THEN 'record'
      ELSE 'other_day'
    END AS kind
  FROM dated
),
grouped AS (
  SELECT
    kind,
    CASE WHEN kind = 'record' THEN ts_day ELSE coalesce(folder_day, ts_day) END AS day,
    coalesce(list_position($sites, site_value), 0) AS site_no,
    CASE WHEN kind = 'record' THEN rid_uuid END AS rid_uuid,
    CASE WHEN kind = 'record' THEN rid_text END AS rid_text,
    CAST(sum(n) AS BIGINT) AS n,
    {{aggregates}}
  FROM classified
  WHERE kind <> 'other_day'
    -- days whose rows come from their slices (src/engine/day-slices.ts): their records already fall on
    -- no report day (their buckets are nulled in $bucket_days); their lines counted by folder go here
    AND NOT coalesce(list_contains(CAST($skip_days AS DATE[]),
                                   CASE WHEN kind = 'record' THEN ts_day ELSE coalesce(folder_day, ts_day) END), false)
  GROUP BY 1, 2, 3, 4, 5
)
SELECT
  kind, day,
  CASE WHEN site_no = 0 THEN 'UNKNOWN' ELSE $sites[site_no] END AS site,
  coalesce(CAST(rid_uuid AS VARCHAR), rid_text) AS rid,
  * EXCLUDE (kind, day, site_no, rid_uuid, rid_text)
FROM grouped;
