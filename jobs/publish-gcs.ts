import path from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { OutputError, TierError } from '../src/errors.js';
import type { Publish } from '../src/report/day-writer.js';
import { deleteGcsObject, writeGcsObject } from '../src/storage/gcs-store.js';
import type { OutputLease } from '../src/storage/output-lease.js';

/**
 * How a run with `--out gs://bucket/prefix/` publishes a day's files written to --local-out: each uploaded
 * in one request (a reader sees the old object or the new one), and the lists a day no longer has removed.
 * Each call first checks every lease the run holds: a run frozen after writing a day locally, and resumed
 * after another run took its output over, must not put its older reading over the other's (exit 5, as
 * before the local write). An upload or removal the bucket refuses is exit 5 too (publishError).
 */
export function gcsPublisher(
  storage: Storage,
  bucket: string,
  prefix: string,
  leases: readonly Pick<OutputLease, 'check'>[],
  signal?: AbortSignal,
): Publish {
  return async (files, gone = []) => {
    for (const lease of leases) await lease.check();
    try {
      for (const f of files) await writeGcsObject(storage, bucket, `${prefix}${path.basename(f)}`, f, { signal });
      for (const f of gone) await deleteGcsObject(storage, bucket, `${prefix}${path.basename(f)}`, { signal });
    } catch (e) {
      throw publishError(e);
    }
  };
}

/**
 * A report the bucket refused (after the retries): exit 5, as a report the disk refused, not 3 (no tier
 * was unread). The day's files in --local-out are whole; in the bucket the day has no manifest until
 * a run publishes it whole, which the next run does.
 */
function publishError(e: unknown): unknown {
  if (!(e instanceof TierError)) return e;
  const reason = e.message.slice(`${e.tier}: ${e.object}: `.length);
  const kept =
    "the day's files in --local-out are whole; in the bucket it has no manifest until a run publishes it whole";
  return new OutputError(e.object, 'GCS', reason, { cause: e, kept });
}
