-- Accepted request ids of one day that the final tier lacks, in report order: sites in config
-- order, then UNKNOWN, each by request_id. Streamed by the caller, never held whole.
-- The WHERE's last term is what "missing" means, rendered from the rules' one definition (MISSING in
-- src/reconcile/rules.ts), e.g. (accepted AND NOT in_final). The id as its UTF-8 bytes (encode): text
-- comes back to JavaScript through a decoder that drops a leading U+FEFF (src/engine/duckdb-api.ts).
SELECT site, encode(rid) AS request_id, unroutable, kafka_known, in_kafka, in_flight, in_gcs, accepted_ms
FROM id_facts
WHERE day = CAST($day AS DATE) AND {{missing}}
ORDER BY coalesce(list_position($sites, site), 1000000), rid;
