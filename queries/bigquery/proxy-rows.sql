-- The proxy table's rows of [@start, @end), one per timestamp, request id, site and status with
-- how many rows it stands for; the embedded engine classifies them as it does log lines. Partition
-- filter and parameters as in landed-rows.sql. The status_value placeholder is the status column as an INT64:
-- the column itself when it is one, else parsed from its text, a value that is no integer NULL (the
-- engine counts the row as malformed). Rows with a NULL timestamp, and rows partitioned further than the
-- margin from their timestamp's date (out of window on the partition's date), as in landed-rows.sql.
SELECT
  UNIX_MILLIS({{ts}}) AS ts_ms,
  CAST({{request_id}} AS STRING) AS request_id,
  CAST({{site}} AS STRING) AS site,
  {{status_value}} AS status,
  {{placed_day}} AS untimed_day,
  COUNT(*) AS n
FROM {{table}}
WHERE {{rows_window}}
GROUP BY 1, 2, 3, 4, 5
