-- Line-level proxy counts per day and site.
SELECT strftime(day, '%Y-%m-%d') AS day, site,
  CAST(sum(lines) AS BIGINT) AS lines,
  CAST(sum(ok_lines) AS BIGINT) AS accepted,
  CAST(sum(lines_413) AS BIGINT) AS rejected_413,
  CAST(sum(lines_502) AS BIGINT) AS rejected_502
FROM ids_proxy
GROUP BY ALL
ORDER BY 1, 2;
