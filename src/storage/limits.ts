/**
 * GCS defaults the config and the GCS store share. A module of its own, free of imports, so that the
 * config can name them without loading the cloud SDK.
 */

/** Objects downloaded at once through the run's GCS client when the config sets no limit (gcs.downloadConcurrency). */
export const GCS_DOWNLOAD_CONCURRENCY = 8;
