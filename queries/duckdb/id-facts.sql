-- What is known of every request id of the batch, one row per (day, site, request_id) of the proxy,
-- of Kafka or of the final tier: the facts the attribution rules (src/reconcile/rules.ts) read.
-- Built once; the per-group counts and the missing list both read it.
--   $kafka_days  the days for which Kafka was read whole (configured, reachable, within retention), as
--                'YYYY-MM-DD' text; cast once to a DATE list, so no row formats its day to compare
--   $final_is_bigquery  true when BigQuery is configured: then it, not GCS, is the final tier
CREATE OR REPLACE TABLE id_facts AS
WITH front AS (
  SELECT
    coalesce(p.day, k.day) AS day,
    coalesce(p.site, k.site) AS site,
    coalesce(p.rid, k.rid) AS rid,
    p.rid IS NOT NULL AS in_proxy,
    coalesce(p.ok_lines > 0, false) AS accepted,
    coalesce(p.lines > p.ok_lines, false) AS rejected,
    CASE WHEN p.ok_lines = 0 THEN CASE p.last_reject WHEN 413 THEN '413' WHEN 502 THEN '502' ELSE 'other' END END AS last_reject,
    -- the published copies' headers decide: Kafka's, every copy in every cluster, where Kafka holds the id
    -- (what the sink filters saw) and was read whole that day (with a cluster unread, the copies read are not
    -- every copy); else the proxy's accepted lines' (a header logged "" is none there)
    CASE WHEN k.rid IS NOT NULL AND list_contains(CAST($kafka_days AS DATE[]), k.day) THEN coalesce(k.unroutable, false)
         ELSE coalesce(p.unroutable, false) END AS unroutable,
    k.rid IS NOT NULL AS in_kafka,
    coalesce(k.regions > 1, false) AS cross_region,
    coalesce(k.in_flight, false) AS in_flight,
    p.accepted_ms
  FROM ids_proxy p
  FULL JOIN ids_kafka k ON p.day = k.day AND p.site = k.site AND p.rid = k.rid
),
mid AS (
SELECT
  coalesce(f.day, g.day) AS day,
  coalesce(f.site, g.site) AS site,
  coalesce(f.rid, g.rid) AS rid,
  coalesce(f.in_proxy, false) AS in_proxy,
  coalesce(f.accepted, false) AS accepted,
  coalesce(f.rejected, false) AS rejected,
  f.last_reject,
  -- the published copies' headers (front); a landed copy's site field is no header a filter saw
  coalesce(f.unroutable, false) AS unroutable,
  list_contains(CAST($kafka_days AS DATE[]), coalesce(f.day, g.day)) AS kafka_known,
  coalesce(f.in_kafka, false) AS in_kafka,
  coalesce(f.cross_region, false) AS cross_region,
  coalesce(f.in_flight, false) AS in_flight,
  g.rid IS NOT NULL AS in_gcs,
  f.accepted_ms
FROM front f
FULL JOIN ids_gcs g ON f.day = g.day AND f.site = g.site AND f.rid = g.rid
)
SELECT
  coalesce(m.day, b.day) AS day,
  coalesce(m.site, b.site) AS site,
  coalesce(m.rid, b.rid) AS rid,
  coalesce(m.in_proxy, false) AS in_proxy,
  coalesce(m.accepted, false) AS accepted,
  coalesce(m.rejected, false) AS rejected,
  m.last_reject,
  coalesce(m.unroutable, false) AS unroutable,
  coalesce(m.kafka_known, list_contains(CAST($kafka_days AS DATE[]), b.day)) AS kafka_known,
  coalesce(m.in_kafka, false) AS in_kafka,
  coalesce(m.cross_region, false) AS cross_region,
  coalesce(m.in_flight, false) AS in_flight,
  coalesce(m.in_gcs, false) AS in_gcs,
  b.rid IS NOT NULL AS in_bigquery,
  CASE WHEN $final_is_bigquery THEN b.rid IS NOT NULL ELSE coalesce(m.in_gcs, false) END AS in_final,
  m.accepted_ms
FROM mid m
FULL JOIN ids_bigquery b ON m.day = b.day AND m.site = b.site AND m.rid = b.rid;
