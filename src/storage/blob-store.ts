/** One object below a location: a local file or a GCS object. */
export interface BlobObject {
  /** Shown in messages and used as the object's identity: `gs://bucket/name` or an absolute path. */
  url: string;
  /**
   * What makes two listings the same object, when `url` does not: a local file's device and inode (a symlink or a
   * hard link and its target).
   */
  key?: string;
  /** Decompress while staging: the name ends in `.gz`, or the object says `Content-Encoding: gzip`. */
  gzip: boolean;
  /** GCS generation to pin reads to, so that an object replaced mid-run is read whole from one version. */
  generation?: string;
  size?: number;
  /**
   * What names this exact content for the per-object cache: a changed object gets a new one. GCS: bucket, name and
   * generation; a file: its resolved path, inode, size, mtime and ctime. Unset: never cached.
   */
  identity?: string;
}

/** Names that hold newline-delimited JSON records (contract: `.ndjson`, `.jsonl`, `.json`, each optionally `.gz`). */
export const RECORD_OBJECT = /\.(ndjson|jsonl|json)(\.gz)?$/i;

/**
 * Where objects come from. One interface for local files and GCS so that the same data gives the
 * same reports from either. Implementations throw TierError for a missing root or a denied read.
 */
export interface BlobStore {
  /**
   * Throws TierError when the fixed part of a location (a bucket, the folder above the first placeholder) is absent;
   * its message names `keyPath`, the location's place in the config, when given.
   */
  assertRootExists(root: string, signal?: AbortSignal, keyPath?: string): Promise<void>;
  /** Every record object below `prefix` (recursively); nothing when the prefix holds nothing. */
  list(prefix: string, signal?: AbortSignal): AsyncIterable<BlobObject>;
  /**
   * The object as a local, uncompressed file DuckDB can scan: either its own path (a plain local file)
   * or `scratchPath`, written here. Throws TierError naming the object when it is corrupt or unreadable.
   */
  stage(object: BlobObject, scratchPath: string, signal?: AbortSignal): Promise<string>;
  /**
   * The object's bytes as stored, as a local file, nothing decompressed: its own path (a local file)
   * or `scratchPath`, downloaded. `gzip` tells whether those bytes are gzip (a GCS object served
   * decompressed is not); the caller checks the gzip. Throws TierError like `stage`.
   */
  fetchStored(object: BlobObject, scratchPath: string, signal?: AbortSignal): Promise<StoredObject>;
}

/** An object's stored bytes as a local file. */
export interface StoredObject {
  path: string;
  gzip: boolean;
}
