-- engine: bigquery. Request ids per day, site and combination of facts (id-fact-groups.sql).
SELECT day, site, in_proxy, accepted, rejected, last_reject, unroutable,
  kafka_known, in_kafka, cross_region, in_flight, in_gcs, in_bigquery, in_final, COUNT(*) AS ids
FROM {{id_facts}}
GROUP BY day, site, in_proxy, accepted, rejected, last_reject, unroutable, kafka_known, in_kafka, cross_region, in_flight, in_gcs, in_bigquery, in_final
