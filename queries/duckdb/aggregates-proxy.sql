count_if(status BETWEEN 200 AND 299) AS ok_lines,
  -- the earliest accepted line's instant (epoch ms): the missing list's accepted_at
  min(ts_ms) FILTER (WHERE status BETWEEN 200 AND 299) AS accepted_ms,
  count_if(status = 413) AS lines_413,
  count_if(status = 502) AS lines_502,
  -- every accepted copy's header named no configured site (every sink filter drops such a record; a rejected
  -- line was never published, and a copy with no header or a site's is kept by a filter): NULL, none accepted
  bool_and(site_value IS NOT NULL AND NOT list_contains($sites, site_value)) FILTER (WHERE status BETWEEN 200 AND 299) AS unroutable,
  -- the class of the last rejected status, by timestamp then by status, so that ties resolve the same way
  -- every run: 413, 502, or 0 for any other (all id-facts.sql tells apart); see reject_key in load-records.sql
  CASE max(reject_key) FILTER (WHERE status NOT BETWEEN 200 AND 299) % 8
    WHEN 1 THEN 413 WHEN 3 THEN 502 WHEN 0 THEN 0 WHEN 2 THEN 0 WHEN 4 THEN 0 END AS last_reject,
  0::BIGINT AS late,
  NULL::VARCHAR[] AS hashes
