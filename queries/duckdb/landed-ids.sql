-- One row per (day, site, request_id) of a landed tier: how many times it landed, and how many of
-- those copies lay in a folder dated after the record's own UTC date (late arrivals).
CREATE OR REPLACE TEMP TABLE {{ids_table}} AS
SELECT
  ts_day AS day,
  site,
  rid,
  count(*) AS records,
  count_if(folder_day > utc_day) AS late
FROM {{rec_table}}
WHERE kind = 'record'
GROUP BY ALL;
