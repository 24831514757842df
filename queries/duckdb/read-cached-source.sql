SELECT *,
    CAST($folder_day_{{i}} AS DATE) AS folder_day,
    CAST($folder_epoch_day_{{i}} AS BIGINT) AS folder_epoch_day
  FROM read_parquet($paths_{{i}}, hive_partitioning = false)
