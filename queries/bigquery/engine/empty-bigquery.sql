-- engine: bigquery. A landed table that is unreadable or not configured: no rows, agg-bigquery.sql's shape.
CREATE OR REPLACE TABLE {{target}} AS
SELECT CAST(NULL AS STRING) AS kind, CAST(NULL AS STRING) AS day, CAST(NULL AS STRING) AS site, CAST(NULL AS STRING) AS rid,
  0 AS n, FALSE AS unroutable, ARRAY<STRING>[] AS hashes
FROM UNNEST([1]) WHERE FALSE
