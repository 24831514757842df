-- Rows of a tier that arrives as a stream rather than as files (Kafka messages, BigQuery query
-- results), appended in batches as the adapter reads them; aggregated by streamed-aggregate.sql
-- (or, for a proxy table, load-records.sql) and dropped. region: the Kafka cluster (NULL for
-- BigQuery); n: how many records the row stands for; status: a proxy table's HTTP status; payload:
-- the record's JSON text whose compared fields are hashed (only with `compare`, else NULL); untimed_day: a
-- table row with no timestamp, the date of its partition (YYYY-MM-DD), the day it is malformed on; tags: the
-- compared fields' tags, where they were taken as the rows came (Kafka's, from a staged batch: kafka-tags.sql).
CREATE OR REPLACE TABLE {{raw_table}} (region VARCHAR, ts_ms BIGINT, rid VARCHAR, site_raw VARCHAR, in_flight BOOLEAN, n BIGINT, status INTEGER,
  payload VARCHAR, untimed_day VARCHAR, tags VARCHAR[]);
