-- Accepted request ids of one day that the final tier lacks, in report order: sites in config
-- order, then UNKNOWN, each by request_id. Streamed by the caller, never held whole.
SELECT p.site, p.rid AS request_id, p.unroutable
FROM ids_proxy p
ANTI JOIN ids_gcs g ON p.day = g.day AND p.site = g.site AND p.rid = g.rid
WHERE p.day = CAST($day AS DATE) AND p.ok_lines > 0
ORDER BY coalesce(list_position($sites, p.site), 1000000), p.rid;
