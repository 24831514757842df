-- The `zoned` step of the engine's aggregations (agg-proxy, agg-bigquery, agg-kafka put it in as
-- their zoned identifier): reads `parsed` (ts_ms, untimed_day, site_value) and adds each row's report day in its
-- site's zone: a site of @zone_sites in the zone at its position in @zone_names, any other (UNKNOWN too) in @zone;
-- a table row without a timestamp, its partition's date (untimed_day).
zoned AS (
  SELECT p.*,
    IFNULL(p.untimed_day, FORMAT_DATE('%F', DATE(TIMESTAMP_MILLIS(p.ts_ms), IFNULL(z.site_zone, @zone)))) AS day
  FROM parsed AS p
  LEFT JOIN (
    SELECT zone_site, @zone_names[OFFSET(i)] AS site_zone FROM UNNEST(@zone_sites) AS zone_site WITH OFFSET AS i
  ) AS z ON z.zone_site = p.site_value
)