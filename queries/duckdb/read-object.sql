-- One object's lines for object-aggregate.sql, as read_ndjson reads them. Identifiers: the object's path as a
-- string literal, the field columns (src/engine/record-columns.ts).
SELECT
    {{line_fields}},
    NULL::DATE AS folder_day,
    NULL::BIGINT AS folder_epoch_day,
    {{tags}} AS tags,
    NULL::VARCHAR AS source_file
  FROM read_ndjson({{path}}, columns = {{columns}}, format = 'newline_delimited', ignore_errors = true,
                   hive_partitioning = false)
