-- engine: bigquery. Line-level proxy counts per day and site (proxy-counts.sql).
SELECT day, site, SUM(n) AS lines, SUM(ok_lines) AS accepted, SUM(lines_413) AS rejected_413, SUM(lines_502) AS rejected_502
FROM {{agg_proxy}}
WHERE kind = 'record'
GROUP BY day, site
