-- One object's lines for object-aggregate.sql, one at a time: the parity_lines table line-check.ts made of it.
SELECT ts_raw, rid_raw, site_raw, status_raw, NULL::DATE AS folder_day, NULL::BIGINT AS folder_epoch_day, tags,
    source_file
  FROM parity_lines
