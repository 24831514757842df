-- Lines counted in no other column, per report day and site: malformed lines (reported on the day
-- of the folder they lie in) and records whose folder cannot hold their date (out_of_window).
-- A timestamp-less malformed line of an undated location has no day: it is reported on every day.
SELECT strftime(d.day, '%Y-%m-%d') AS day, r.site, r.kind, count(*) AS n
FROM {{rec_table}} r
JOIN windows d
  ON d.day = coalesce(r.folder_day, r.ts_day) OR (r.folder_day IS NULL AND r.ts_day IS NULL AND r.kind = 'malformed')
WHERE r.kind IN ('malformed', 'out_of_window')
GROUP BY ALL
ORDER BY 1, 2, 3;
