-- parse-lines.sql's filter in a count of lines (load-records.sql), before the fields other than the
-- timestamp are parsed: only a line that may count on a report day goes on. One of a report day's folder
-- (or of no folder); one whose timestamp lies in the batch's buckets (of any zone: a superset of the report
-- days' instants); and one with none of the fields (src/engine/line-check.ts reads its object again).
-- Any other line would be 'other_day', or malformed or out of window on its folder's day, no report day.
-- $report_days: the batch's report days; $first_bucket, $bucket_count as in load-records.sql.
WHERE folder_day IS NULL
   OR list_contains(CAST($report_days AS DATE[]), folder_day)
   OR ts_parsed // 900000 - $first_bucket BETWEEN 0 AND $bucket_count - 1
   OR (ts_raw IS NULL AND rid_raw IS NULL AND site_raw IS NULL AND status_raw IS NULL)
