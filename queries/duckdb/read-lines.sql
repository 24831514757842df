-- Some objects' lines read one line at a time (src/engine/line-check.ts): each line is its own JSON text,
-- parsed alone, so a broken line can never take the next one with it, as read_ndjson's recovery can (a
-- line cut after a colon or inside an array makes it read the following line as part of the broken one).
-- The same columns as read-source.sql, from the same field expressions over json_transform's struct of
-- the same shape (record-columns.ts's structure): a line that is no JSON is a row of NULLs, and a blank
-- line no row, as read_ndjson gives them. A line the CSV reader rejects (not UTF-8) is added as a row of
-- NULLs from the reader's rejects once it has run. The structs: line-json.sql's, or line-rejects.sql's.
SELECT
    {{line_fields}},
    {{tags}} AS tags,
    source_file
  FROM (SELECT parity_line.*, source_file FROM ({{structs}}))
