-- One object's lines, aggregated apart from any run: the per-object cache's entry (src/engine/object-cache.ts).
-- Per 15-minute UTC bucket (every zone's midnight is on a quarter hour, so any run's report days are
-- unions of buckets, and a UTC date is 96 of them), normalised site text and request-id key; what a
-- run decides (report day, site code, late, out of window) is left to load-cached.sql. The lines come
-- from read-object.sql, or, for an object read_ndjson reads otherwise than line by line, from its lines
-- one at a time (read-lines-object.sql, src/engine/line-check.ts). `bad`: a line
-- the tier counts as malformed whatever the day (no usable timestamp, no id, or for the proxy no
-- status); its id is not kept. Identifiers: the object's path as a string literal, the field
-- columns (src/engine/record-columns.ts) and status_required (true or false).
WITH raw AS (
  {{source}}
),
parsed AS (
  {{parse_lines}}
),
flagged AS (
  SELECT *,
    ts_ms IS NULL OR rid IS NULL OR ({{status_required}} AND status IS NULL) AS bad,
    CASE WHEN length(rid) = 36 THEN try_cast(rid AS UUID) END AS rid_as_uuid
  FROM parsed
)
SELECT
  ts_ms // 900000 AS bucket,
  site_value,
  bad,
  -- the id as a UUID only when its text is exactly the UUID's canonical text, else as that text
  CASE WHEN NOT bad AND CAST(rid_as_uuid AS VARCHAR) = rid THEN rid_as_uuid END AS rid_uuid,
  CASE WHEN NOT bad AND (rid_as_uuid IS NULL OR CAST(rid_as_uuid AS VARCHAR) <> rid) THEN rid END AS rid_text,
  count(*) AS n,
  count_if(status BETWEEN 200 AND 299) AS ok_lines,
  -- the earliest accepted line's instant (epoch ms)
  min(ts_ms) FILTER (WHERE status BETWEEN 200 AND 299) AS first_ok,
  count_if(status = 413) AS lines_413,
  count_if(status = 502) AS lines_502,
  -- the latest rejected line's (timestamp, status class) as one number (parse-lines.sql's reject_key):
  -- the greatest wins across objects as within one
  max(reject_key) FILTER (WHERE status NOT BETWEEN 200 AND 299) AS reject_key,
  -- the compared fields' distinct tags (compare on; else NULL, and the entry's name says which)
  {{hashes}} AS hashes
FROM flagged
GROUP BY ALL
