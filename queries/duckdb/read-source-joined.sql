-- read-source.sql for a batch of many folders: every object in one scan, each line's folder date
-- found by its file's name (an equality join on the list of the batch's objects). DuckDB holds each
-- scan of a UNION ALL apart until the aggregation ends: one scan per folder date of a 7-day batch
-- (8 scans, 1,000,000 events a day) ran out of 512MiB where one scan, or four, fit. A batch of few
-- folders keeps one scan per folder (src/engine/load-sql.ts), where the folder is a constant.
-- Parameters: $paths (every object, as the reader takes it: src/engine/load-sql.ts's duckdbPath),
-- $path_names (the same paths as they are, what the reader's filename says), $path_folder_days and
-- $path_folder_epoch_days (each object's folder date and its epoch day, in the same order; NULL for an
-- undated location).
SELECT r.ts_raw, r.rid_raw, r.site_raw, r.status_raw, f.folder_day, f.folder_epoch_day, r.tags,
       r.parity_source_file AS source_file
  FROM (
    SELECT
      {{line_fields}},
      {{tags}} AS tags,
      parity_source_file
    FROM read_ndjson($paths, columns = {{columns}}, format = 'newline_delimited', ignore_errors = true,
                     filename = 'parity_source_file', hive_partitioning = false)
  ) r
  JOIN (SELECT unnest($path_names) AS path,
               CAST(unnest($path_folder_days) AS DATE) AS folder_day,
               unnest($path_folder_epoch_days) AS folder_epoch_day) f
    ON r.parity_source_file = f.path
