-- One row per (day, site, request_id) of the proxy log: its lines by status class and, for an id
-- never accepted, its last status (by timestamp, then status, so that ties resolve the same way).
CREATE OR REPLACE TEMP TABLE ids_proxy AS
SELECT
  ts_day AS day,
  site,
  rid,
  count(*) AS lines,
  count_if(status BETWEEN 200 AND 299) AS ok_lines,
  count_if(status = 413) AS lines_413,
  count_if(status = 502) AS lines_502,
  bool_or(unroutable) AS unroutable,
  arg_max(status, [ts_ms, status]) FILTER (WHERE status NOT BETWEEN 200 AND 299) AS last_reject
FROM rec_proxy
WHERE kind = 'record'
GROUP BY ALL;
