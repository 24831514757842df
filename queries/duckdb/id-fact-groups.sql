-- Request ids per day, site and combination of facts: every id is in exactly one group.
SELECT strftime(day, '%Y-%m-%d') AS day, site, in_proxy, accepted, rejected, last_reject, unroutable,
  kafka_known, in_kafka, cross_region, in_flight, in_gcs, in_bigquery, in_final, count(*) AS ids
FROM id_facts
GROUP BY ALL
ORDER BY ALL;
