-- engine: bigquery. Records per day, site, region and kind, and distinct ids (streamed-counts.sql).
SELECT day, site, {{region}} AS region, kind, SUM(n) AS n, COUNT(DISTINCT rid) AS distinct_ids
FROM {{agg}}
GROUP BY day, site, region, kind
