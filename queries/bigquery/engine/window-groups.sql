-- engine: bigquery. The accepted request ids of one day per site, 15-minute bucket of their accepted
-- line and combination of the facts of landing and of the loss causes, as window-groups.sql in the
-- embedded engine: the loss windows (src/engine/loss-windows.ts) fold these groups.
--   @day  STRING, the report day (YYYY-MM-DD)
SELECT site, DIV(accepted_ms, 900000) AS bucket, in_final, in_gcs, unroutable, kafka_known, in_kafka, in_flight,
  COUNT(*) AS ids
FROM {{id_facts}}
WHERE day = @day AND accepted
GROUP BY site, bucket, in_final, in_gcs, unroutable, kafka_known, in_kafka, in_flight
