SELECT
    {{line_fields}},
    CAST($folder_day_{{i}} AS DATE) AS folder_day,
    CAST($folder_epoch_day_{{i}} AS BIGINT) AS folder_epoch_day,
    {{tags}} AS tags,
    parity_source_file AS source_file
  FROM read_ndjson($paths_{{i}}, columns = {{columns}}, format = 'newline_delimited',
                   ignore_errors = true, filename = 'parity_source_file')
