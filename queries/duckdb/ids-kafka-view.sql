-- Request-id rows of the Kafka tier across its clusters: how many copies, in how many clusters,
-- and whether every copy is still beyond its sink group's committed offset.
CREATE OR REPLACE VIEW ids_kafka AS
SELECT day, site, rid, sum(n) AS messages, count(*) AS regions, bool_and(in_flight) AS in_flight, bool_or(unroutable) AS unroutable
FROM agg_kafka
WHERE kind = 'record'
GROUP BY ALL;
