-- engine: bigquery. What is known of every request id of the batch, as id-facts.sql in the
-- embedded engine: one row per (day, site, request_id) of the proxy, of Kafka or of BigQuery (the
-- final tier: this engine reads no files, so in_gcs is false).
--   @kafka_days  ARRAY<STRING>, the days for which Kafka was read whole
CREATE OR REPLACE TABLE {{target}} AS
WITH proxy AS (
  SELECT day, site, rid, n AS lines, ok_lines, unroutable, last_reject
  FROM {{agg_proxy}}
  WHERE kind = 'record'
),
kafka AS (
  SELECT day, site, rid, COUNT(*) AS regions, LOGICAL_AND(in_flight) AS in_flight, LOGICAL_OR(unroutable) AS unroutable
  FROM {{agg_kafka}}
  WHERE kind = 'record'
  GROUP BY day, site, rid
),
landed AS (
  SELECT day, site, rid, LOGICAL_OR(unroutable) AS unroutable
  FROM {{agg_bigquery}}
  WHERE kind = 'record'
  GROUP BY day, site, rid
),
front AS (
  SELECT
    COALESCE(p.day, k.day) AS day,
    COALESCE(p.site, k.site) AS site,
    COALESCE(p.rid, k.rid) AS rid,
    p.rid IS NOT NULL AS in_proxy,
    IFNULL(p.ok_lines > 0, FALSE) AS accepted,
    IFNULL(p.lines > p.ok_lines, FALSE) AS rejected,
    IF(p.ok_lines = 0, CASE p.last_reject WHEN 413 THEN '413' WHEN 502 THEN '502' ELSE 'other' END, NULL) AS last_reject,
    IFNULL(p.unroutable, FALSE) OR IFNULL(k.unroutable, FALSE) AS unroutable,
    k.rid IS NOT NULL AS in_kafka,
    IFNULL(k.regions > 1, FALSE) AS cross_region,
    IFNULL(k.in_flight, FALSE) AS in_flight
  FROM proxy p
  FULL JOIN kafka k ON p.day = k.day AND p.site = k.site AND p.rid = k.rid
)
SELECT
  COALESCE(f.day, b.day) AS day,
  COALESCE(f.site, b.site) AS site,
  COALESCE(f.rid, b.rid) AS rid,
  IFNULL(f.in_proxy, FALSE) AS in_proxy,
  IFNULL(f.accepted, FALSE) AS accepted,
  IFNULL(f.rejected, FALSE) AS rejected,
  f.last_reject,
  IFNULL(f.unroutable, FALSE) OR IFNULL(b.unroutable, FALSE) AS unroutable,
  COALESCE(f.day, b.day) IN UNNEST(@kafka_days) AS kafka_known,
  IFNULL(f.in_kafka, FALSE) AS in_kafka,
  IFNULL(f.cross_region, FALSE) AS cross_region,
  IFNULL(f.in_flight, FALSE) AS in_flight,
  FALSE AS in_gcs,
  b.rid IS NOT NULL AS in_bigquery,
  b.rid IS NOT NULL AS in_final
FROM front f
FULL JOIN landed b ON f.day = b.day AND f.site = b.site AND f.rid = b.rid
