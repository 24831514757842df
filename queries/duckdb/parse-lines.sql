-- A line's fields, parsed: the one definition both the direct count (load-records.sql) and the
-- per-object cache (object-aggregate.sql) use. Reads `raw` (ts_raw, rid_raw, site_raw, status_raw,
-- folder_day, folder_epoch_day, tags: the compared fields' tags, src/engine/compare-sql.ts; source_file:
-- the object the line is in, or NULL where no one asks, src/engine/line-check.ts).
-- The timestamp: epoch milliseconds (a JSON number arrives as its text), else ISO-8601, else
-- fractional epoch ms. A fraction is cut off, never rounded: the BIGINT cast rounds '…999.6' up into
-- the next millisecond (and day, at 23:59:59.999), so a number with a point or an exponent is floored
-- as an exact DECIMAL first; what that cast does not take goes on down the chain as before. ISO text
-- (a '-' fifth) tries the ISO cast first and skips the BIGINT cast that always fails on it; when the ISO
-- cast fails too ('123e-5' is a number with a '-' fifth), the rest of the chain runs, so every text gets
-- what the chain alone gives: no text that casts as a timestamp also casts as BIGINT.
-- Each cast sees only text it may take. The timestamp cast: the ISO-8601 forms the README lists, matched
-- whole (a date; then 'T' or a space, hh:mm:ss with hours 00-23, minutes and seconds 00-59, a fraction,
-- then 'Z' or an offset ±hh, ±hhmm or ±hh:mm of the same ranges). The cast itself takes more: '+05:99'
-- as +06:39, '-24:00' a day on, 'T12:00' without seconds, '2025/03/09', the word 'epoch'. A zone name
-- is no ISO-8601 either, and DuckDB 1.5's vectorised cast keeps a named zone ('… America/New_York',
-- '… EST') for the offset-less texts after it in the same vector, which moved up to 2,047 other lines by
-- hours. Every accepted form has its '-' fifth: text without one never reaches the cast. The number
-- casts (timestamp and status): no text with '_', 'x' or 'b' in either case, the only characters beyond
-- a decimal number's that they take ('0xC8', '0b11001000' and '2_00' were 200; no JSON number or digit
-- string has them).
  SELECT
    folder_day,
    folder_epoch_day,
    -- the timestamp as above; outside years 1970 to 9999 (nanoseconds by mistake, say) it is no usable timestamp,
    -- and a number below 1e11 neither: epoch seconds by mistake (1741521600 read as milliseconds is a day in
    -- January 1970, which no report holds: its line was out of window, or in an undated location no day's at all),
    -- where no writer's milliseconds fall (1e11 ms is 1973-03-03). ISO text of those years is read as written;
    -- only a line that fails the first test is matched against the ISO forms again.
    CASE WHEN ts_parsed BETWEEN 100000000000 AND 253402300799999 THEN ts_parsed
         WHEN ts_parsed BETWEEN 0 AND 99999999999 AND substr(ts_raw, 5, 1) = '-'
              AND regexp_full_match(ts_raw, '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?')
         THEN ts_parsed END AS ts_ms,
    -- a request id is kept byte for byte (it is what the client sent); empty or only whitespace is none
    CASE WHEN regexp_full_match(rid_raw, '\s*') THEN NULL ELSE rid_raw END AS rid,
    -- spaces trimmed, and only they (both engines alike: BigQuery's TRIM() takes all whitespace, DuckDB's some)
    nullif(upper(trim(site_raw, ' ')), '') AS site_value,
    -- an HTTP status is a whole number: '200.0' is 200, but '200.5' is none (the INTEGER cast rounds it to 201)
    CASE WHEN NOT status_num THEN NULL
         WHEN contains(status_raw, '.') OR contains(status_raw, 'e') OR contains(status_raw, 'E')
         THEN CASE WHEN try_cast(trim(status_raw) AS DECIMAL(38, 18))
                        = floor(try_cast(trim(status_raw) AS DECIMAL(38, 18)))
                   THEN try_cast(try_cast(trim(status_raw) AS DECIMAL(38, 18)) AS INTEGER) END
         ELSE try_cast(trim(status_raw) AS INTEGER) END AS status,
    -- (timestamp, status) as one ordered number, for the last rejection: epoch ms × 8 plus the status's
    -- class rank (below 413, 413, between, 502, above). The rank never reaches 8 and rises with the status,
    -- so the greatest key is the latest line and, among lines of that instant, the greatest status's class:
    -- exactly the class of the greatest (timestamp, status), in one BIGINT instead of a struct to compare
    ts_ms * 8 + CASE WHEN status < 413 THEN 0 WHEN status = 413 THEN 1 WHEN status < 502 THEN 2
                     WHEN status = 502 THEN 3 ELSE 4 END AS reject_key,
    tags,
    -- a line with none of the four fields (not JSON, or none of them in it): its object is checked line by
    -- line afterwards (src/engine/line-check.ts), since read_ndjson can read the line after a broken one wrong
    CASE WHEN ts_raw IS NULL AND rid_raw IS NULL AND site_raw IS NULL AND status_raw IS NULL THEN source_file END
      AS blank_file
  FROM (
    SELECT *, CASE WHEN substr(ts_raw, 5, 1) = '-'
                     THEN coalesce(CASE WHEN regexp_full_match(ts_raw, '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?')
                                        THEN epoch_ms(try_cast(ts_raw AS TIMESTAMPTZ)) END,
                                   CASE WHEN ts_num AND (contains(ts_raw, '.') OR contains(ts_raw, 'e')
                                                        OR contains(ts_raw, 'E'))
                                        THEN try_cast(floor(try_cast(ts_raw AS DECIMAL(38, 18))) AS BIGINT) END,
                                   CASE WHEN ts_num THEN try_cast(ts_raw AS BIGINT) END,
                                   CASE WHEN ts_num THEN try_cast(floor(try_cast(ts_raw AS DOUBLE)) AS BIGINT) END)
                     ELSE coalesce(CASE WHEN ts_num AND (contains(ts_raw, '.') OR contains(ts_raw, 'e')
                                                        OR contains(ts_raw, 'E'))
                                        THEN try_cast(floor(try_cast(ts_raw AS DECIMAL(38, 18))) AS BIGINT) END,
                                   CASE WHEN ts_num THEN try_cast(ts_raw AS BIGINT) END,
                                   CASE WHEN ts_num THEN try_cast(floor(try_cast(ts_raw AS DOUBLE)) AS BIGINT) END) END AS ts_parsed
    FROM (
      -- whether the number casts may see the text: they also take hex, binary and underscores, JSON does not
      SELECT *,
        CASE WHEN ts_raw >= '1' AND ts_raw < ':' THEN NOT contains(ts_raw, '_')
             ELSE NOT (contains(ts_raw, '_') OR contains(ts_raw, 'x') OR contains(ts_raw, 'X') OR contains(ts_raw, 'b')
                       OR contains(ts_raw, 'B')) END AS ts_num,
        CASE WHEN status_raw >= '1' AND status_raw < ':' THEN NOT contains(status_raw, '_')
             ELSE NOT (contains(status_raw, '_') OR contains(status_raw, 'x') OR contains(status_raw, 'X')
                       OR contains(status_raw, 'b') OR contains(status_raw, 'B')) END AS status_num
      FROM raw
    )
  ){{keep}}
