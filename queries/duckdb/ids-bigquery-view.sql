-- Request-id rows of the BigQuery tier: how many rows each id has.
CREATE OR REPLACE VIEW ids_bigquery AS
SELECT day, site, rid, CAST(sum(n) AS BIGINT) AS records, bool_and(unroutable) AS unroutable
FROM agg_bigquery
WHERE kind = 'record'
GROUP BY ALL;
