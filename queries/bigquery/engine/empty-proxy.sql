-- engine: bigquery. A proxy tier that is unreadable: no rows, the shape agg-proxy.sql makes.
CREATE OR REPLACE TABLE {{target}} AS
SELECT CAST(NULL AS STRING) AS kind, CAST(NULL AS STRING) AS day, CAST(NULL AS STRING) AS site, CAST(NULL AS STRING) AS rid,
  0 AS n, 0 AS ok_lines, CAST(NULL AS INT64) AS accepted_ms, 0 AS lines_413, 0 AS lines_502, FALSE AS unroutable, CAST(NULL AS INT64) AS last_reject
FROM UNNEST([1]) WHERE FALSE
