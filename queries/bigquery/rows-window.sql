-- The rows of a table a read of [@start, @end) takes, on the partitions @from_date..@to_date (the window's UTC
-- dates widened by @margin_days) and the NULL partition: each row whose partition lies within the margin of its
-- own timestamp's UTC date, by its timestamp (a day counts the same rows whatever days are read with it), or,
-- without a timestamp, by its partition's date; and a row partitioned further than the margin from its time, on
-- its partition's date (out of window there). {{days}} names the read's report days (YYYY-MM-DD): a row placed
-- by its partition is read by the one read whose days hold that date. (placed-day.sql names that date.)
({{partition}} BETWEEN @from_date AND @to_date OR {{partition}} IS NULL)
AND (
  (({{partition}} IS NULL OR {{ts}} IS NULL OR ABS(DATE_DIFF({{partition}}, DATE({{ts}}), DAY)) <= @margin_days)
   AND (({{ts}} >= @start AND {{ts}} < @end)
        OR ({{ts}} IS NULL AND FORMAT_DATE('%F', {{partition}}) IN UNNEST({{days}}))))
  OR (ABS(DATE_DIFF({{partition}}, DATE({{ts}}), DAY)) > @margin_days
      AND FORMAT_DATE('%F', {{partition}}) IN UNNEST({{days}})))
