CAST(sum(ok_lines) AS BIGINT) AS ok_lines,
    min(first_ok) AS accepted_ms,
    CAST(sum(lines_413) AS BIGINT) AS lines_413,
    CAST(sum(lines_502) AS BIGINT) AS lines_502,
    -- every accepted copy's header named no configured site, as aggregates-proxy.sql's (a cached row is one
    -- site_value's lines, so its accepted lines share it)
    bool_and(site_value IS NOT NULL AND NOT list_contains($sites, site_value)) FILTER (WHERE ok_lines > 0) AS unroutable,
    -- the class of the greatest (timestamp, status) among rejected lines, as aggregates-proxy.sql's
    CASE max(reject_key) % 8 WHEN 1 THEN 413 WHEN 3 THEN 502 WHEN 0 THEN 0 WHEN 2 THEN 0 WHEN 4 THEN 0 END AS last_reject,
    0::BIGINT AS late,
    NULL::VARCHAR[] AS hashes
