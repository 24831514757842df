-- The date a row is placed on by its partition, not its timestamp (rows-window.sql): without a timestamp,
-- malformed there; partitioned further than @margin_days from its timestamp's date, out of window there.
IF({{ts}} IS NULL OR ABS(DATE_DIFF({{partition}}, DATE({{ts}}), DAY)) > @margin_days, FORMAT_DATE('%F', {{partition}}), NULL)
