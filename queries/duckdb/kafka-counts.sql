-- Kafka messages per day, site, cluster and kind (record or malformed).
SELECT strftime(day, '%Y-%m-%d') AS day, site, region, kind, CAST(sum(n) AS BIGINT) AS n
FROM agg_kafka
GROUP BY ALL
ORDER BY ALL;
