-- A streamed tier's records per day, site, region and kind (record or malformed), and distinct ids.
SELECT strftime(day, '%Y-%m-%d') AS day, site, coalesce(region, '') AS region, kind,
  CAST(sum(n) AS BIGINT) AS n, count(DISTINCT rid) AS distinct_ids
FROM {{agg_table}}
GROUP BY ALL
ORDER BY ALL;
