-- The struct of each line of a table of lines (parity_line_text; a line over a MiB, alone, a one-row subquery),
-- the lines src/engine/line-check.ts split off the objects itself, byte for byte at each newline
-- (read-lines.sql's rows): NULL for a line that is no JSON; a line that held a NUL byte, was not UTF-8 or
-- was longer than a record may be arrives as NULL, as read_ndjson reads it.
SELECT CASE WHEN json_valid(line) THEN json_transform(line, {{structure}}) END AS parity_line, source_file
FROM {{text_table}}
