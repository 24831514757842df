-- Request-id rows of one aggregated tier, under the names the reconciling queries read.
CREATE OR REPLACE VIEW {{ids_table}} AS
SELECT day, site, rid, n AS lines, n AS records, ok_lines, accepted_ms, lines_413, lines_502, unroutable,
  last_reject, late
FROM {{agg_table}}
WHERE kind = 'record';
