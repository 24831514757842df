CAST(sum(ok_lines) AS BIGINT) AS ok_lines,
    min(first_ok) AS accepted_ms,
    CAST(sum(lines_413) AS BIGINT) AS lines_413,
    CAST(sum(lines_502) AS BIGINT) AS lines_502,
    bool_or(site_value IS NOT NULL AND NOT list_contains($sites, site_value)) AS unroutable,
    -- the status of the greatest (timestamp, status) among rejected lines, as aggregates-proxy.sql's arg_max
    struct_extract(max(reject), 's') AS last_reject,
    0::BIGINT AS late,
    NULL::VARCHAR[] AS hashes
