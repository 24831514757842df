0::BIGINT AS ok_lines,
  NULL::BIGINT AS accepted_ms,
  0::BIGINT AS lines_413,
  0::BIGINT AS lines_502,
  bool_or(site_value IS NOT NULL AND NOT list_contains($sites, site_value)) AS unroutable,
  NULL::INTEGER AS last_reject,
  -- copies found in a folder dated after the record's own UTC date
  count_if(folder_epoch_day > utc_epoch_day) AS late,
  {{hashes}} AS hashes
