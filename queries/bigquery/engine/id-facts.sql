-- engine: bigquery. What is known of every request id of the batch, as id-facts.sql in the
-- embedded engine: one row per (day, site, request_id) of the proxy, of Kafka or of BigQuery (the
-- final tier: this engine reads no files, so in_gcs is false). One UNION ALL and one GROUP BY
-- instead of the embedded engine's chain of FULL JOINs: the same facts, one shuffle in BigQuery
-- (and no quadratic join in the emulator the tests use).
--   @kafka_days  ARRAY<STRING>, the days for which Kafka was read whole
CREATE OR REPLACE TABLE {{target}} AS
WITH ids AS (
  -- one row per (day, site, rid) in the proxy
  SELECT day, site, rid,
    TRUE AS in_proxy,
    ok_lines > 0 AS accepted,
    accepted_ms,
    n > ok_lines AS rejected,
    IF(ok_lines = 0, CASE last_reject WHEN 413 THEN '413' WHEN 502 THEN '502' ELSE 'other' END, NULL) AS last_reject,
    unroutable,
    0 AS kafka_regions,
    CAST(NULL AS BOOL) AS in_flight,
    FALSE AS in_bigquery
  FROM {{agg_proxy}}
  WHERE kind = 'record'
  UNION ALL
  -- one row per (day, site, rid, region) in Kafka
  SELECT day, site, rid, FALSE, FALSE, CAST(NULL AS INT64), FALSE, CAST(NULL AS STRING), unroutable, 1, in_flight, FALSE
  FROM {{agg_kafka}}
  WHERE kind = 'record'
  UNION ALL
  SELECT day, site, rid, FALSE, FALSE, CAST(NULL AS INT64), FALSE, CAST(NULL AS STRING), unroutable, 0, CAST(NULL AS BOOL), TRUE
  FROM {{agg_bigquery}}
  WHERE kind = 'record'
)
SELECT
  day,
  site,
  rid,
  LOGICAL_OR(in_proxy) AS in_proxy,
  LOGICAL_OR(accepted) AS accepted,
  MIN(accepted_ms) AS accepted_ms,
  LOGICAL_OR(rejected) AS rejected,
  MAX(last_reject) AS last_reject,
  -- Kafka's copies in every cluster named no site, where Kafka holds the id (what the sink filters saw) and was
  -- read whole that day, else the proxy's accepted copies (as the embedded engine's ids_kafka view and
  -- id-facts.sql); a landed row's site field is no header a filter saw
  IF(SUM(kafka_regions) > 0 AND day IN UNNEST(@kafka_days),
     IFNULL(LOGICAL_AND(IF(kafka_regions = 1, unroutable, NULL)), FALSE),
     IFNULL(LOGICAL_OR(IF(in_proxy, unroutable, NULL)), FALSE)) AS unroutable,
  day IN UNNEST(@kafka_days) AS kafka_known,
  SUM(kafka_regions) > 0 AS in_kafka,
  SUM(kafka_regions) > 1 AS cross_region,
  -- every copy still past its sink group's committed offset; NULL (no copy in Kafka) is false
  IFNULL(LOGICAL_AND(in_flight), FALSE) AS in_flight,
  FALSE AS in_gcs,
  LOGICAL_OR(in_bigquery) AS in_bigquery,
  LOGICAL_OR(in_bigquery) AS in_final
FROM ids
GROUP BY day, site, rid
