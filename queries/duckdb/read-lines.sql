-- Some objects' lines read one line at a time (src/engine/line-check.ts): each line is its own JSON text,
-- parsed alone, so a broken line can never take the next one with it, as read_ndjson's recovery can (a
-- line cut after a colon or inside an array makes it read the following line as part of the broken one).
-- The same columns as read-source.sql, from the same field expressions over json_transform's struct of
-- the same shape (record-columns.ts's structure): a line that is no JSON is a row of NULLs, and a blank
-- line no row, as read_ndjson gives them. A line the CSV reader rejects (not UTF-8) is added as a row of
-- NULLs by read-line-rejects.sql, once this has run. Parameters: $paths (as the reader takes them:
-- load-sql.ts's duckdbPath).
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
      SELECT CASE WHEN json_valid(line) THEN json_transform(line, {{structure}}) END AS parity_line,
             parity_line_file AS source_file
      -- a line up to read_ndjson's largest object (16 MiB); the buffer must hold one
      FROM read_csv($paths, columns = {'line': 'VARCHAR'}, delim = '', quote = '', escape = '', header = false,
                    auto_detect = false, new_line = '\n', strict_mode = false, max_line_size = 16777216,
                    buffer_size = 33554432, ignore_errors = true, store_rejects = true,
                    rejects_table = 'parity_line_rejects', rejects_scan = 'parity_line_scans',
                    filename = 'parity_line_file')
      -- RE2's \s: what read_ndjson skips as a blank line
      WHERE NOT regexp_full_match(line, '\s*')
    )
  )
