-- id-facts.sql when Kafka and BigQuery hold no ids (not configured, or nothing read): the same table,
-- row for row, from one join of the file tiers instead of three, since every Kafka and BigQuery fact
-- is then false and every row comes from the proxy or GCS. Parameters as in id-facts.sql.
CREATE OR REPLACE TABLE id_facts AS
SELECT
  coalesce(p.day, g.day) AS day,
  coalesce(p.site, g.site) AS site,
  coalesce(p.rid, g.rid) AS rid,
  p.rid IS NOT NULL AS in_proxy,
  coalesce(p.ok_lines > 0, false) AS accepted,
  coalesce(p.lines > p.ok_lines, false) AS rejected,
  CASE WHEN p.ok_lines = 0 THEN CASE p.last_reject WHEN 413 THEN '413' WHEN 502 THEN '502' ELSE 'other' END END AS last_reject,
  coalesce(p.unroutable, false) AS unroutable,
  list_contains(CAST($kafka_days AS DATE[]), coalesce(p.day, g.day)) AS kafka_known,
  false AS in_kafka,
  false AS cross_region,
  false AS in_flight,
  g.rid IS NOT NULL AS in_gcs,
  false AS in_bigquery,
  CASE WHEN $final_is_bigquery THEN false ELSE g.rid IS NOT NULL END AS in_final,
  p.accepted_ms
FROM ids_proxy p
FULL JOIN ids_gcs g ON p.day = g.day AND p.site = g.site AND p.rid = g.rid;
