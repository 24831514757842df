-- Ids with a content mismatch (compare-ids.sql) per day and site.
SELECT strftime(day, '%Y-%m-%d') AS day, site, count(*) AS ids
FROM content_mismatch
GROUP BY ALL
ORDER BY ALL;
