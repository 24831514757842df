/**
 * Defaults that the config and an adapter both name, on the ground floor so that neither has to
 * import the other's room (the config must not depend on the storage adapters).
 */

/**
 * Objects downloaded at once through the run's GCS client when the config sets no limit
 * (gcs.downloadConcurrency).
 */
export const GCS_DOWNLOAD_CONCURRENCY = 8;
