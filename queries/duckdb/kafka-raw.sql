-- Kafka messages of the batch's days as the adapter decoded them: one row a message, appended in
-- batches; aggregated by kafka-aggregate.sql and dropped.
CREATE OR REPLACE TABLE kafka_raw (region VARCHAR, ts_ms BIGINT, rid VARCHAR, site_raw VARCHAR, in_flight BOOLEAN);
