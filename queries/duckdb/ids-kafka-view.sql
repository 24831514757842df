-- Request-id rows of the Kafka tier across its clusters: how many copies, in how many clusters,
-- whether every copy is still beyond its sink group's committed offset, and whether every copy's header
-- named no configured site (a copy some sink filter keeps should have landed).
CREATE OR REPLACE VIEW ids_kafka AS
SELECT day, site, rid, sum(n) AS messages, count(*) AS regions, bool_and(in_flight) AS in_flight, bool_and(unroutable) AS unroutable
FROM agg_kafka
WHERE kind = 'record'
GROUP BY ALL;
