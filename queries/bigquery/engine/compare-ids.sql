-- engine: bigquery. As compare-ids.sql in the embedded engine: the batch's request ids found in both
-- Kafka and the final tier whose compared fields differ (src/engine/compare-sql.ts's tags), with the
-- indexes of the differing fields (a field's tags on one side only) and the id's place in report
-- order (its site's position in @sites, then UNKNOWN). An id without tags on a side is compared with
-- nothing. Identifiers: the scratch tables.
--   @sites  ARRAY<STRING>, configured site codes
CREATE OR REPLACE TABLE {{target}} AS
WITH kafka AS (
  SELECT day, site, rid, ARRAY_CONCAT_AGG(hashes) AS h
  FROM {{agg_kafka}}
  WHERE kind = 'record'
  GROUP BY day, site, rid
),
landed AS (
  SELECT day, site, rid, ARRAY_CONCAT_AGG(hashes) AS h
  FROM {{agg_bigquery}}
  WHERE kind = 'record'
  GROUP BY day, site, rid
),
differing AS (
  SELECT k.day, k.site, k.rid,
    ARRAY(
      SELECT DISTINCT CAST(SPLIT(x, ':')[OFFSET(0)] AS INT64) AS i
      FROM UNNEST(ARRAY_CONCAT(
        ARRAY(SELECT y FROM UNNEST(k.h) AS y WHERE y NOT IN UNNEST(f.h)),
        ARRAY(SELECT y FROM UNNEST(f.h) AS y WHERE y NOT IN UNNEST(k.h)))) AS x
      ORDER BY i
    ) AS fields
  FROM kafka AS k
  JOIN landed AS f ON k.day = f.day AND k.site = f.site AND k.rid = f.rid
  WHERE ARRAY_LENGTH(k.h) > 0 AND ARRAY_LENGTH(f.h) > 0
)
SELECT
  day,
  site,
  IFNULL((SELECT MIN(o) + 1 FROM UNNEST(@sites) AS s WITH OFFSET AS o WHERE s = d.site), 1000000) AS site_no,
  rid,
  fields
FROM differing AS d
WHERE ARRAY_LENGTH(fields) > 0
