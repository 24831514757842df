0::BIGINT AS ok_lines,
    NULL::BIGINT AS accepted_ms,
    0::BIGINT AS lines_413,
    0::BIGINT AS lines_502,
    bool_or(site_value IS NOT NULL AND NOT list_contains($sites, site_value)) AS unroutable,
    NULL::INTEGER AS last_reject,
    -- lines found in a folder dated after their own UTC date
    CAST(coalesce(sum(n) FILTER (WHERE folder_epoch_day > utc_epoch_day), 0) AS BIGINT) AS late,
    {{hashes}} AS hashes
