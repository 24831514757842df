-- Record-level counts of a landed tier per day and site.
SELECT strftime(day, '%Y-%m-%d') AS day, site,
  CAST(sum(records) AS BIGINT) AS records,
  count(*) AS distinct_ids,
  CAST(sum(late) AS BIGINT) AS late
FROM {{ids_table}}
GROUP BY ALL
ORDER BY 1, 2;
