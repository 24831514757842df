-- The lines read-lines.sql's reader rejected (bytes that are not UTF-8), each a row of NULLs of its object
-- (the fields of `{}`), as read_ndjson reads such a line; the field expressions as in read-lines.sql.
SELECT
    CAST({{timestamp}} AS VARCHAR) AS ts_raw,
    CAST({{request_id}} AS VARCHAR) AS rid_raw,
    CAST({{site}} AS VARCHAR) AS site_raw,
    CAST({{status}} AS VARCHAR) AS status_raw,
    {{tags}} AS tags,
    source_file
  FROM (
    SELECT parity_line.*, source_file
    FROM (
      SELECT json_transform('{}', {{structure}}) AS parity_line, s.file_path AS source_file
      FROM parity_line_rejects r
      JOIN parity_line_scans s USING (scan_id, file_id)
    )
  )
