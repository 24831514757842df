-- The objects whose lines read_ndjson reads otherwise than read-lines.sql does one line at a time: per
-- object, the number of rows and two sums of 64-bit hashes of each row (one salted) of each reading, the
-- line-by-line one already summed in parity_line_sums (src/engine/line-check.ts). A sum of hashes, not a
-- join of the rows: the check reads the objects without holding their lines (a join of 2 M lines spilled
-- for 24 s). Parameters: $paths (as the reader takes them); identifiers: the field columns and expressions
-- (src/engine/record-columns.ts).
WITH ndjson AS (
  SELECT source_file, count(*) AS n,
    sum(hash(ts_raw, rid_raw, site_raw, status_raw, tags)) AS h1,
    sum(hash(ts_raw, rid_raw, site_raw, status_raw, tags, 'parity')) AS h2
  FROM (
    SELECT
      {{line_fields}},
      {{tags}} AS tags,
      parity_source_file AS source_file
    FROM read_ndjson($paths, columns = {{columns}}, format = 'newline_delimited', ignore_errors = true,
                     filename = 'parity_source_file', hive_partitioning = false)
  )
  GROUP BY 1
),
lines AS (
  SELECT source_file, sum(n) AS n, sum(h1) AS h1, sum(h2) AS h2 FROM parity_line_sums GROUP BY 1
)
SELECT coalesce(a.source_file, b.source_file) AS file
FROM ndjson a
FULL JOIN lines b ON a.source_file = b.source_file
WHERE a.n IS DISTINCT FROM b.n OR a.h1 IS DISTINCT FROM b.h1 OR a.h2 IS DISTINCT FROM b.h2
ORDER BY 1;
