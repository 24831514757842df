-- Parses one tier's staged objects into typed records and says what each line counts as.
-- The double-braced table, columns and field expressions are identifiers built from validated
-- field paths (src/engine/record-columns.ts); every value is a named parameter.
--   $paths      staged files to scan          $late_days  how many days later a folder may hold a record
--   $sites      configured site codes         $status_required  true for the proxy tier (a line needs a status)
-- Tables it reads: objects(path, folder_day), windows(day, start_ms, end_ms) for the report days.
CREATE OR REPLACE TEMP TABLE {{table}} AS
WITH raw AS (
  SELECT
    CAST({{timestamp}} AS VARCHAR) AS ts_raw,
    CAST({{request_id}} AS VARCHAR) AS rid_raw,
    CAST({{site}} AS VARCHAR) AS site_raw,
    CAST({{status}} AS VARCHAR) AS status_raw,
    CAST({{region}} AS VARCHAR) AS region_raw,
    filename
  FROM read_ndjson($paths, columns = {{columns}}, format = 'newline_delimited',
                   ignore_errors = true, filename = true, maximum_object_size = 67108864)
),
parsed AS (
  SELECT
    o.folder_day,
    CASE
      WHEN regexp_full_match(trim(ts_raw), '-?[0-9]+(\.[0-9]+)?') THEN try_cast(floor(try_cast(trim(ts_raw) AS DOUBLE)) AS BIGINT)
      ELSE epoch_ms(try_cast(trim(ts_raw) AS TIMESTAMPTZ))
    END AS ts_ms,
    nullif(trim(rid_raw), '') AS rid,
    nullif(upper(trim(site_raw)), '') AS site_value,
    try_cast(trim(status_raw) AS INTEGER) AS status,
    nullif(trim(region_raw), '') AS region
  FROM raw JOIN objects o ON raw.filename = o.path
),
dated AS (
  SELECT p.*,
    CASE WHEN p.ts_ms < w.end_ms THEN w.day END AS ts_day,
    CAST(epoch_ms(p.ts_ms) AS DATE) AS utc_day
  FROM parsed p ASOF LEFT JOIN windows w ON p.ts_ms >= w.start_ms
)
SELECT
  CASE
    WHEN ts_ms IS NULL OR rid IS NULL OR ($status_required AND status IS NULL) THEN 'malformed'
    WHEN folder_day IS NOT NULL AND utc_day NOT BETWEEN folder_day - CAST($late_days AS INTEGER) AND folder_day + 1 THEN 'out_of_window'
    WHEN ts_day IS NOT NULL THEN 'record'
    ELSE 'other_day'
  END AS kind,
  ts_day,
  folder_day,
  utc_day,
  ts_ms,
  rid,
  CASE WHEN list_contains($sites, site_value) THEN site_value ELSE 'UNKNOWN' END AS site,
  coalesce(site_value IS NOT NULL AND NOT list_contains($sites, site_value), false) AS unroutable,
  status,
  region
FROM dated;
