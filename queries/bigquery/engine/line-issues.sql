-- engine: bigquery. Malformed rows of a table tier per day and site, and rows out of window (partitioned further
-- than the margin from their timestamp's date: on the partition's date).
SELECT day, site, kind, SUM(n) AS n
FROM {{agg}}
WHERE kind IN ('malformed', 'out_of_window')
GROUP BY day, site, kind
