-- The proxy table's rows of [@start, @end), one per timestamp, request id, site and status with
-- how many rows it stands for; the embedded engine classifies them as it does log lines. Partition
-- filter and parameters as in landed-rows.sql. A status that is no integer comes back NULL (the
-- engine counts the row as malformed), whether the column is an INT64 or a STRING.
SELECT
  UNIX_MILLIS({{ts}}) AS ts_ms,
  CAST({{request_id}} AS STRING) AS request_id,
  CAST({{site}} AS STRING) AS site,
  SAFE_CAST(TRIM(CAST({{status}} AS STRING)) AS INT64) AS status,
  COUNT(*) AS n
FROM {{table}}
WHERE {{partition}} BETWEEN @from_date AND @to_date
  AND {{ts}} >= @start
  AND {{ts}} < @end
GROUP BY 1, 2, 3, 4
