-- engine: bigquery. Accepted request ids of one day that BigQuery lacks, in report order: sites in
-- config order (@sites), then UNKNOWN, each by request_id. Read back a page at a time.
-- The WHERE's last term is what "missing" means, rendered from the rules' one definition (MISSING in
-- src/reconcile/rules.ts), e.g. (f.accepted AND NOT f.in_final).
SELECT f.site, f.rid AS request_id, f.unroutable, f.kafka_known, f.in_kafka, f.in_flight, f.in_gcs, f.accepted_ms
FROM {{id_facts}} f
LEFT JOIN UNNEST(@sites) AS s WITH OFFSET AS position ON s = f.site
WHERE f.day = @day AND {{missing}}
ORDER BY IFNULL(position, 1000000), f.rid
