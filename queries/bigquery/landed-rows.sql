-- The landed table's rows of [@start, @end), one per timestamp, request id and site with how many
-- rows it stands for; the engine does the per-id work. The partition filter comes first and is on
-- every query: @from_date..@to_date are the UTC dates of the window widened by partitionMarginDays,
-- so rows partitioned by arrival a day late (or early) are still read. Rows with a NULL request id
-- are kept: the engine counts them as malformed. UNIX_MILLIS, never CAST(ts AS STRING) (time-zone
-- dependent in the emulator). With `compare`, the payload placeholder adds the compared columns as
-- one JSON text (src/engine/compare-sql.ts), which the embedded engine hashes, and the group
-- placeholder groups by it; without, both are empty.
SELECT
  UNIX_MILLIS({{ts}}) AS ts_ms,
  CAST({{request_id}} AS STRING) AS request_id,
  CAST({{site}} AS STRING) AS site,{{payload}}
  COUNT(*) AS n
FROM {{table}}
WHERE {{partition}} BETWEEN @from_date AND @to_date
  AND {{ts}} >= @start
  AND {{ts}} < @end
GROUP BY 1, 2, 3{{payload_group}}
