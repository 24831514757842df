-- engine: bigquery. Ids with a content mismatch (compare-ids.sql) per day and site.
SELECT day, site, COUNT(*) AS ids
FROM {{mismatch}}
GROUP BY day, site
ORDER BY day, site
