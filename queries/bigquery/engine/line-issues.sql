-- engine: bigquery. Malformed rows of a table tier per day and site (a table has no folders, so
-- nothing is out of window).
SELECT day, site, kind, SUM(n) AS n
FROM {{agg}}
WHERE kind = 'malformed'
GROUP BY day, site, kind
