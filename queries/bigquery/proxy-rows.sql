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
  IF({{ts}} IS NULL OR ABS(DATE_DIFF({{partition}}, DATE({{ts}}), DAY)) > @margin_days,
     FORMAT_DATE('%F', {{partition}}), NULL) AS untimed_day,
  COUNT(*) AS n
FROM {{table}}
WHERE ({{partition}} BETWEEN @from_date AND @to_date OR {{partition}} IS NULL)
  AND (
    -- each row's partition within the margin of its own timestamp's UTC date, as a day alone reads it
    (({{partition}} IS NULL OR {{ts}} IS NULL OR ABS(DATE_DIFF({{partition}}, DATE({{ts}}), DAY)) <= @margin_days)
     AND (({{ts}} >= @start AND {{ts}} < @end)
          OR ({{ts}} IS NULL AND FORMAT_DATE('%F', {{partition}}) IN UNNEST(@untimed_days))))
    -- else, on its partition's date when that is one of the read's days: out of window there (untimed_day with a
    -- timestamp), as a file record in a folder that cannot hold its date is on the folder's
    OR (ABS(DATE_DIFF({{partition}}, DATE({{ts}}), DAY)) > @margin_days
        AND FORMAT_DATE('%F', {{partition}}) IN UNNEST(@untimed_days)))
GROUP BY 1, 2, 3, 4, 5
