-- What is known of every request id of the batch, one row per (day, site, request_id) of the proxy
-- or of the final tier: the facts the attribution rules (src/reconcile/rules.ts) read. Built once;
-- the per-group counts and the missing list both read it.
CREATE OR REPLACE TABLE id_facts AS
SELECT
  coalesce(p.day, g.day) AS day,
  coalesce(p.site, g.site) AS site,
  coalesce(p.rid, g.rid) AS rid,
  p.rid IS NOT NULL AS in_proxy,
  coalesce(p.ok_lines > 0, false) AS accepted,
  coalesce(p.lines > p.ok_lines, false) AS rejected,
  CASE WHEN p.ok_lines = 0 THEN CASE p.last_reject WHEN 413 THEN '413' WHEN 502 THEN '502' ELSE 'other' END END AS last_reject,
  coalesce(p.unroutable, false) AS unroutable,
  g.rid IS NOT NULL AS in_gcs
FROM ids_proxy p
FULL JOIN ids_gcs g ON p.day = g.day AND p.site = g.site AND p.rid = g.rid;
