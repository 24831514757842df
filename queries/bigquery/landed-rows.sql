-- The landed table's rows of [@start, @end), one per timestamp, request id and site with how many
-- rows it stands for; the engine does the per-id work. The partition filter comes first and is on
-- every query: @from_date..@to_date are the UTC dates of the window widened by partitionMarginDays,
-- so rows partitioned by arrival a day late (or early) are still read; a row whose partition is further
-- than @margin_days from its timestamp's UTC date counts on no day by its timestamp, whatever days the batch
-- holds (a day read alone could not reach it, so a wider batch must not count it either): it is out of window
-- on its partition's date instead (untimed_day beside its timestamp), counted by the one read whose days hold
-- that date, as a file record in a folder that cannot hold it is on the folder's; and the NULL partition (a NULL
-- partition column; an ingestion-time table's streaming buffer) too, whose rows count by their timestamp
-- alone (one without a timestamp has no day there, and is read by no day). Rows with a NULL request id
-- are kept: the engine counts them as malformed. So are rows with a NULL timestamp, read from the
-- partitions dated @untimed_days (the read's report days, YYYY-MM-DD) and malformed on that date
-- (untimed_day), as a log line without a timestamp is on its folder's: every such row of a
-- partition is counted by the one read whose days hold its date. UNIX_MILLIS, never
-- CAST(ts AS STRING) (time-zone dependent in the emulator). With `compare`, the payload placeholder
-- adds the compared columns as one JSON text (src/engine/compare-sql.ts), which the embedded engine
-- hashes, and the group placeholder groups by it; without, both are empty.
SELECT
  UNIX_MILLIS({{ts}}) AS ts_ms,
  CAST({{request_id}} AS STRING) AS request_id,
  CAST({{site}} AS STRING) AS site,
  {{placed_day}} AS untimed_day,{{payload}}
  COUNT(*) AS n
FROM {{table}}
WHERE {{rows_window}}
GROUP BY 1, 2, 3, 4{{payload_group}}
