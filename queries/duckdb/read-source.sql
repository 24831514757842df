-- One folder's objects for load-records.sql. Every reader of paths sets hive_partitioning = false: DuckDB would
-- otherwise take a folder named key=value (site=US/, as a sink partitioning by a field writes) as a column,
-- and put its value in place of the line's own field of that name.
SELECT
    {{line_fields}},
    CAST($folder_day_{{i}} AS DATE) AS folder_day,
    CAST($folder_epoch_day_{{i}} AS BIGINT) AS folder_epoch_day,
    {{tags}} AS tags,
    parity_source_file AS source_file
  FROM read_ndjson($paths_{{i}}, columns = {{columns}}, format = 'newline_delimited',
                   ignore_errors = true, filename = 'parity_source_file', hive_partitioning = false)
