-- One page of a day's content mismatches (compare-ids.sql), in report order: after the page that
-- ended at ($after_no, $after_site, $after_rid), the next page_rows (a constant filled in). The site
-- breaks a tie of site_no (UNKNOWN and the sites a --sites run left out share one).
-- The id as its UTF-8 bytes (encode), as in missing-ids.sql.
SELECT site_no, site, encode(rid) AS request_id, fields
FROM content_mismatch
WHERE day = CAST($day AS DATE)
  AND (site_no > $after_no
    OR (site_no = $after_no AND (site > $after_site OR (site = $after_site AND rid > $after_rid))))
ORDER BY site_no, site, rid
LIMIT {{page_rows}};
