-- engine: bigquery. One page of a day's content mismatches (compare-ids.sql), in report order: after
-- the page that ended at (@after_no, @after_site, @after_rid), the next page_rows (a constant filled in).
-- The site breaks a tie of site_no (UNKNOWN and the sites a --sites run left out share one). @after_no
-- is text: the emulator the tests use takes no number parameter here.
SELECT site_no, site, rid AS request_id, fields
FROM {{mismatch}}
WHERE day = @day
  AND (site_no > CAST(@after_no AS INT64)
    OR (site_no = CAST(@after_no AS INT64)
      AND (site > @after_site OR (site = @after_site AND rid > @after_rid))))
ORDER BY site_no, site, rid
LIMIT {{page_rows}}
