-- The batch's request ids found in both Kafka and the final tier whose compared fields differ
-- (`compare`; the tags are src/engine/compare-sql.ts's `<field index>:<hash>`). Per id and side, the
-- distinct tags of all its records: a field differs when some tag of it is on one side only, so
-- duplicates with equal payloads never differ. An id with no tags on a side (a message without a
-- JSON value) is compared with nothing. The final_agg placeholder: agg_gcs or agg_bigquery, a constant.
--   $sites  configured site codes: the listing's order (then UNKNOWN)
CREATE OR REPLACE TABLE content_mismatch AS
WITH kafka AS (
  SELECT day, site, rid, list_distinct(flatten(list(hashes) FILTER (WHERE hashes IS NOT NULL))) AS h
  FROM agg_kafka
  WHERE kind = 'record'
  GROUP BY ALL
),
landed AS (
  SELECT day, site, rid, list_distinct(flatten(list(hashes) FILTER (WHERE hashes IS NOT NULL))) AS h
  FROM {{final_agg}}
  WHERE kind = 'record'
  GROUP BY ALL
),
differing AS (
  SELECT k.day, k.site, k.rid,
    list_sort(list_distinct(list_transform(
      list_concat(list_filter(k.h, lambda x: NOT list_contains(f.h, x)),
                  list_filter(f.h, lambda x: NOT list_contains(k.h, x))),
      lambda x: CAST(split_part(x, ':', 1) AS INTEGER)))) AS fields
  FROM kafka k
  JOIN landed f ON k.day = f.day AND k.site = f.site AND k.rid = f.rid
  WHERE len(k.h) > 0 AND len(f.h) > 0
)
SELECT day, site, coalesce(list_position($sites, site), 1000000) AS site_no, rid, fields
FROM differing
WHERE len(fields) > 0;
