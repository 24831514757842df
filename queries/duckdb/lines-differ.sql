-- The objects whose lines read_ndjson reads otherwise than lines-table.sql does one line at a time: the
-- two as multisets of rows per object, each way (NULL equals NULL in EXCEPT ALL). Parameters: $paths (as
-- the reader takes them); identifiers: the field columns and expressions (src/engine/record-columns.ts).
WITH ndjson AS (
  SELECT
    CAST({{timestamp}} AS VARCHAR) AS ts_raw,
    CAST({{request_id}} AS VARCHAR) AS rid_raw,
    CAST({{site}} AS VARCHAR) AS site_raw,
    CAST({{status}} AS VARCHAR) AS status_raw,
    {{tags}} AS tags,
    parity_source_file AS source_file
  FROM read_ndjson($paths, columns = {{columns}}, format = 'newline_delimited', ignore_errors = true,
                   filename = 'parity_source_file')
),
lines AS (
  SELECT ts_raw, rid_raw, site_raw, status_raw, tags, source_file FROM parity_lines
)
SELECT DISTINCT source_file AS file
FROM ((SELECT * FROM ndjson EXCEPT ALL SELECT * FROM lines)
      UNION ALL
      (SELECT * FROM lines EXCEPT ALL SELECT * FROM ndjson))
ORDER BY 1;
