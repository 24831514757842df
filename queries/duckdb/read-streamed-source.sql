SELECT
    CAST(ts_ms AS VARCHAR) AS ts_raw,
    rid AS rid_raw,
    site_raw,
    CAST(status AS VARCHAR) AS status_raw,
    -- a row without a timestamp is malformed on its partition's date, as a line without one on its folder's; one
    -- with a timestamp and untimed_day was partitioned further than the margin from it: out of window there, as a
    -- record whose folder cannot hold its date (a folder day no record's date is near makes it so, whatever the reach)
    CAST(untimed_day AS DATE) AS folder_day,
    CASE WHEN ts_ms IS NOT NULL AND untimed_day IS NOT NULL THEN -1000000000::BIGINT END AS folder_epoch_day,
    NULL::VARCHAR[] AS tags,
    NULL::VARCHAR AS source_file
  -- a row standing for n table rows counts as n lines
  FROM (SELECT *, unnest(range(n)) AS copy FROM {{raw_table}})
