-- Per object, what lines-differ.sql compares of its line-by-line reading (the source: read-lines.sql, of
-- line-json.sql's structs or, for the lines its reader rejected, of line-rejects.sql's): rows, and two sums
-- of 64-bit hashes of each row.
SELECT source_file, count(*) AS n,
    sum(hash(ts_raw, rid_raw, site_raw, status_raw, tags)) AS h1,
    sum(hash(ts_raw, rid_raw, site_raw, status_raw, tags, 'parity')) AS h2
  FROM ({{source}})
  GROUP BY 1
