-- With `compare`, Kafka's messages staged in {{stage_table}} (streamed-raw.sql) go into {{raw_table}} with their
-- compared fields' tags taken now and their values dropped (src/engine/kafka-stage.ts): a day's values are never
-- held whole (60 messages of 1.9 MB ran the engine out of its 512MiB). {{tags}}: the payload's tags (compare-sql.ts).
INSERT INTO {{raw_table}}
SELECT region, ts_ms, rid, site_raw, in_flight, n, status, NULL, untimed_day, {{tags}}
FROM {{stage_table}};
