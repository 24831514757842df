-- The accepted request ids of one day per site, 15-minute bucket of their accepted line (epoch
-- quarter hours: every zone's offset is whole quarter hours, so these are the day's local buckets)
-- and combination of the facts that say whether an id landed and why not (src/reconcile/rules.ts):
-- the loss windows (src/engine/loss-windows.ts) fold these groups, never the ids one by one.
SELECT site, accepted_ms // 900000 AS bucket, in_final, in_gcs, unroutable, kafka_known, in_kafka, in_flight,
  count(*) AS ids
FROM id_facts
WHERE day = CAST($day AS DATE) AND accepted
GROUP BY ALL
ORDER BY ALL;
