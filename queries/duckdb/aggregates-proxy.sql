count_if(status BETWEEN 200 AND 299) AS ok_lines,
  -- the earliest accepted line's instant (epoch ms): the missing list's accepted_at
  min(ts_ms) FILTER (WHERE status BETWEEN 200 AND 299) AS accepted_ms,
  count_if(status = 413) AS lines_413,
  count_if(status = 502) AS lines_502,
  bool_or(site_value IS NOT NULL AND NOT list_contains($sites, site_value)) AS unroutable,
  -- the last status by timestamp, then by status, so that ties resolve the same way every run
  arg_max(status, struct_pack(t := ts_ms, s := status)) FILTER (WHERE status NOT BETWEEN 200 AND 299) AS last_reject,
  0::BIGINT AS late,
  NULL::VARCHAR[] AS hashes
