-- The lines line-json.sql's reader rejected (bytes that are not UTF-8), each the struct of `{}`: a row of
-- NULLs of its object (read-lines.sql's rows), as read_ndjson reads such a line.
SELECT json_transform('{}', {{structure}}) AS parity_line, s.file_path AS source_file
FROM parity_line_rejects r
JOIN parity_line_scans s USING (scan_id, file_id)
