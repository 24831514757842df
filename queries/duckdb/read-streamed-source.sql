SELECT
    CAST(ts_ms AS VARCHAR) AS ts_raw,
    rid AS rid_raw,
    site_raw,
    CAST(status AS VARCHAR) AS status_raw,
    -- a row without a timestamp is malformed on its partition's date, as a line without one on its folder's
    CAST(untimed_day AS DATE) AS folder_day,
    NULL::BIGINT AS folder_epoch_day,
    NULL::VARCHAR[] AS tags,
    NULL::VARCHAR AS source_file
  -- a row standing for n table rows counts as n lines
  FROM (SELECT *, unnest(range(n)) AS copy FROM {{raw_table}})
