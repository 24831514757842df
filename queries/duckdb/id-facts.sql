-- Request ids per day, site and combination of facts: the input of the attribution rules
-- (src/reconcile/rules.ts). Every id of the proxy or of the landed tiers is in exactly one group.
WITH facts AS (
  SELECT
    coalesce(p.day, g.day) AS day,
    coalesce(p.site, g.site) AS site,
    p.rid IS NOT NULL AS in_proxy,
    coalesce(p.ok_lines > 0, false) AS accepted,
    coalesce(p.lines > p.ok_lines, false) AS rejected,
    CASE WHEN p.ok_lines = 0 THEN CASE p.last_reject WHEN 413 THEN '413' WHEN 502 THEN '502' ELSE 'other' END END AS last_reject,
    coalesce(p.unroutable, false) AS unroutable,
    g.rid IS NOT NULL AS in_gcs
  FROM ids_proxy p
  FULL JOIN ids_gcs g ON p.day = g.day AND p.site = g.site AND p.rid = g.rid
)
SELECT strftime(day, '%Y-%m-%d') AS day, site, in_proxy, accepted, rejected, last_reject, unroutable, in_gcs, count(*) AS ids
FROM facts
GROUP BY ALL
ORDER BY ALL;
