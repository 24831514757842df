-- The newest as_of (ISO-8601 UTC text, which sorts as time does) the history holds for each of @days
-- (ARRAY<STRING> of YYYY-MM-DD: the emulator binds a DATE array as STRING): a writer leaves out its rows
-- of a date the history holds newer rows of.
SELECT FORMAT_DATE('%F', `date`) AS day, MAX(as_of) AS newest
FROM {{history}}
WHERE `date` IN (SELECT CAST(d AS DATE) FROM UNNEST(@days) AS d)
GROUP BY 1
