-- Parses one tier's staged objects and aggregates them in the same pass: one row per
-- (kind, day, site, request_id) for records, one per (kind, day, site) for lines counted in no
-- other column. Nothing per line is kept, so memory follows distinct ids, and spills past the limit.
-- Double-braced names are filled by the engine from constants and validated field paths
-- (src/engine/record-columns.ts): the sources are one read-source.sql per folder date, joined by
-- UNION ALL; the aggregates are aggregates-proxy.sql or aggregates-landed.sql. Every value is a
-- named parameter:
--   $bucket_days      the report day of each 15-minute bucket from $first_bucket on (NULL: not a report day),
--                     $bucket_count of them per zone some site's day is cut in, zone after zone;
--                     every IANA zone's midnight falls on a 15-minute mark, so a list lookup replaces a range join
--   $first_bucket     epoch milliseconds ÷ 900000 of the first bucket
--   $bucket_count     buckets per zone
--   $zone_base        where the record's site's zone starts in $bucket_days: element 1 for UNKNOWN and
--                     unconfigured sites (the configured zone), element k + 1 for $sites[k] (src/engine/day-lookup.ts);
--                     one element when every site's day is cut in one zone (no lookup per record then)
--   $late_days        how many days after a record's UTC date its folder may be dated
--   $clock_skew_days  how many days before a record's UTC date its folder may be dated: clockSkewDays, as many
--                     folders as a run reads before a day's first, so a record is in its folder's window exactly
--                     when every run of its day reads that folder, whatever other days the run covers
--   $sites            configured site codes
--   $status_required  true for the proxy tier: a line needs a status
CREATE OR REPLACE TABLE {{table}} AS
WITH raw AS (
  {{sources}}
),
parsed AS (
  {{parse_lines}}
),
dated AS (
  SELECT *,
    CASE WHEN ts_ms // 900000 - $first_bucket BETWEEN 0 AND $bucket_count - 1
         THEN CAST($bucket_days AS DATE[])[CASE WHEN len($zone_base) = 1 THEN 0
                                                ELSE $zone_base[coalesce(list_position($sites, site_value), 0) + 1] END
                                           + ts_ms // 900000 - $first_bucket + 1] END AS ts_day,
    ts_ms // 86400000 AS utc_epoch_day
  FROM parsed
),
classified AS (
  SELECT *,
    CASE
      -- a malformed line of an undated location whose timestamp lies on no report day belongs to another day's report
      WHEN folder_day IS NULL AND ts_ms IS NOT NULL AND ts_day IS NULL THEN 'other_day'
      WHEN ts_ms IS NULL OR rid IS NULL OR ($status_required AND status IS NULL) THEN 'malformed'
      WHEN folder_day IS NOT NULL AND utc_epoch_day NOT BETWEEN folder_epoch_day - $late_days AND folder_epoch_day + $clock_skew_days THEN 'out_of_window'
      WHEN ts_day IS NOT NULL THEN 'record'
      ELSE 'other_day'
    END AS kind
  FROM dated
)
SELECT
  kind,
  CASE WHEN kind = 'record' THEN ts_day ELSE coalesce(folder_day, ts_day) END AS day,
  CASE WHEN list_contains($sites, site_value) THEN site_value ELSE 'UNKNOWN' END AS site,
  -- a record's id; on a malformed line with none of the fields, its object (line-check.ts reads and clears it)
  CASE WHEN kind = 'record' THEN rid WHEN kind = 'malformed' THEN blank_file END AS rid,
  count(*) AS n,
  {{aggregates}}
FROM classified
WHERE kind <> 'other_day'
GROUP BY 1, 2, 3, 4;
