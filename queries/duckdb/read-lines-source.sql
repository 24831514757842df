-- read-source.sql for the objects read one line at a time (parity_lines, line-check.ts): each line's
-- folder date found by its object's name. Parameters: $line_names (the objects' paths as they are),
-- $line_folder_days and $line_folder_epoch_days (each one's folder date and epoch day, in the same order).
SELECT l.ts_raw, l.rid_raw, l.site_raw, l.status_raw, f.folder_day, f.folder_epoch_day, l.tags, l.source_file
  FROM parity_lines l
  JOIN (SELECT unnest($line_names) AS path,
               CAST(unnest($line_folder_days) AS DATE) AS folder_day,
               unnest($line_folder_epoch_days) AS folder_epoch_day) f
    ON l.source_file = f.path
