-- Lines counted in no other column, per report day and site: malformed lines (reported on the day
-- of the folder they lie in) and records whose folder cannot hold their date (out_of_window).
-- A timestamp-less malformed line of an undated location has no day: it is reported on every day.
SELECT strftime(w.day, '%Y-%m-%d') AS day, a.site, a.kind, CAST(sum(a.n) AS BIGINT) AS n
FROM {{agg_table}} a
JOIN windows w ON w.day = a.day OR (a.day IS NULL AND a.kind = 'malformed')
WHERE a.kind IN ('malformed', 'out_of_window')
GROUP BY ALL
ORDER BY 1, 2, 3;
