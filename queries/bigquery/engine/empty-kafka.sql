-- engine: bigquery. No Kafka messages (not configured, or none read): agg-kafka.sql's shape.
CREATE OR REPLACE TABLE {{target}} AS
SELECT CAST(NULL AS STRING) AS kind, CAST(NULL AS STRING) AS day, CAST(NULL AS STRING) AS site, CAST(NULL AS STRING) AS rid,
  CAST(NULL AS STRING) AS region, 0 AS n, FALSE AS in_flight, FALSE AS unroutable, ARRAY<STRING>[] AS hashes
FROM UNNEST([1]) WHERE FALSE
