-- The struct of each line of some objects, parsed alone (read-lines.sql's rows): NULL for a line that is
-- no JSON; a blank line is no row. Parameters: $paths (as the reader takes them: load-sql.ts's duckdbPath).
SELECT CASE WHEN json_valid(line) THEN json_transform(line, {{structure}}) END AS parity_line,
       parity_line_file AS source_file
-- a line up to 16 MiB (the buffer must hold one); a longer one is rejected, and line-check.ts reads it exactly
FROM read_csv($paths, columns = {'line': 'VARCHAR'}, delim = '', quote = '', escape = '', header = false,
              auto_detect = false, hive_partitioning = false, new_line = '\n', strict_mode = false, max_line_size = 16777216,
              buffer_size = 33554432, ignore_errors = true, store_rejects = true,
              rejects_table = 'parity_line_rejects', rejects_scan = 'parity_line_scans',
              filename = 'parity_line_file')
-- what read_ndjson skips as a blank line: JSON's whitespace and C's (VT, FF)
WHERE NOT regexp_full_match(line, '[ \t\n\x0B\f\r]*')
