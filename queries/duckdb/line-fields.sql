-- A line's four fields as text, from the field expressions (src/engine/record-columns.ts): the columns
-- every reader of lines gives parse-lines.sql (read-source.sql, read-source-joined.sql, read-object.sql,
-- read-lines.sql, and lines-differ.sql, which compares two of them).
CAST({{timestamp}} AS VARCHAR) AS ts_raw,
    CAST({{request_id}} AS VARCHAR) AS rid_raw,
    CAST({{site}} AS VARCHAR) AS site_raw,
    CAST({{status}} AS VARCHAR) AS status_raw