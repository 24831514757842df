import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { File, Storage } from '@google-cloud/storage';
import { addDays } from '../src/dates.js';
import { OutputError } from '../src/errors.js';
import type { DayKey } from '../src/domain.js';
import type { Logger } from '../src/log/logger.js';
import { VOLUME_TRAILING_DAYS, VOLUME_WEEKDAY_WINDOW_DAYS } from '../src/reconcile/volume.js';
import { describeFailure, retrying, retryPolicy } from '../src/storage/gcs-failures.js';
import { outputError } from '../src/report/writer.js';

/** The folder below --local-out that report files the bucket does not hold are moved into, a folder a run. */
const NOT_IN_BUCKET = 'not-in-bucket';

/** How far before a run's first day its earlier reports are read: the volume guard's longer window. */
export const SYNC_HISTORY_DAYS = Math.max(VOLUME_TRAILING_DAYS, VOLUME_WEEKDAY_WINDOW_DAYS);

/**
 * The report files a run over `days` reads: the parity, missing and manifest files of its days and of
 * the SYNC_HISTORY_DAYS days before the first, and the windows and mismatch files of its own days (a
 * day's manifest names them: backfill takes the day as current only with every one intact).
 */
export function earlierReportNames(days: readonly DayKey[]): Set<string> {
  const sorted = [...days].sort();
  const names = new Set<string>();
  if (sorted.length === 0) return names;
  for (let day = addDays(sorted[0]!, -SYNC_HISTORY_DAYS); day <= sorted.at(-1)!; day = addDays(day, 1)) {
    for (const name of [`parity-${day}.csv`, `missing-${day}.csv`, `manifest-${day}.json`]) names.add(name);
    if (day >= sorted[0]!) for (const name of [`windows-${day}.csv`, `mismatch-${day}.csv`]) names.add(name);
  }
  return names;
}

export interface SyncRequest {
  storage: Storage;
  bucket: string;
  /** The object prefix of `--out gs://bucket/prefix/`: empty or ending in `/`. */
  prefix: string;
  /** `--local-out`, where the run reads earlier reports and writes its own. */
  localDir: string;
  days: readonly DayKey[];
  log: Logger;
  signal?: AbortSignal;
  retryAttempts?: number;
  retryBaseDelayMs?: number;
}

/**
 * With `--out gs://…` the bucket, not `--local-out`, holds the reports of earlier runs (the CronJob's
 * `--local-out` is an emptyDir, empty every morning). Before anything reads them — `daily`'s
 * restatement check, backfill's resume, the volume guard — this copies into `localDir` the files
 * earlierReportNames names that are in the bucket and absent here or different (md5). Each file is
 * written beside its name and renamed over it. Throws TierError (tier `--out`) when the bucket cannot
 * be listed or read. Returns the names copied.
 */
export async function syncEarlierReports(req: SyncRequest): Promise<string[]> {
  const wanted = earlierReportNames(req.days);
  if (wanted.size === 0) return [];
  const sorted = [...req.days].sort();
  const from = addDays(sorted[0]!, -SYNC_HISTORY_DAYS);
  const to = addDays(sorted.at(-1)!, 1);
  const bucket = req.storage.bucket(req.bucket);
  const policy = retryPolicy(req);
  const where = `gs://${req.bucket}/${req.prefix}`;
  const describe = (what: string) => (e: unknown) => {
    const failure = describeFailure(e, {
      403: `permission denied (403) — the credentials need storage.objects.list and get on bucket "${req.bucket}"`,
      404: `bucket "${req.bucket}" does not exist (404) — check the --out location`,
    });
    return { ...failure, message: `cannot ${what} the earlier reports: ${failure.message}` };
  };
  const found: File[] = [];
  // One listing per file family, cut to the days wanted (names sort by day).
  for (const family of ['parity-', 'missing-', 'manifest-', 'windows-', 'mismatch-']) {
    const start = `${req.prefix}${family}${from}`;
    const end = `${req.prefix}${family}${to}`;
    const [files] = await retrying('--out', where, policy, req.signal, describe('list'), () =>
      bucket.getFiles({ prefix: `${req.prefix}${family}`, startOffset: start, endOffset: end, autoPaginate: true }),
    );
    found.push(...files.filter((f) => wanted.has(f.name.slice(req.prefix.length))));
  }
  const copied: string[] = [];
  for (const file of found) {
    const name = file.name.slice(req.prefix.length);
    const local = path.join(req.localDir, name);
    const md5 = file.metadata.md5Hash;
    if (md5 !== undefined && (await md5Of(local)) === md5) continue;
    const temp = path.join(req.localDir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await retrying('--out', `gs://${req.bucket}/${file.name}`, policy, req.signal, describe('read'), () =>
        file.download({ destination: temp, validation: 'md5' }),
      );
      await rename(temp, local).catch((e: unknown) => {
        throw outputError(local, e); // a folder in the way: exit 5 naming it, not a bug
      });
    } finally {
      await rm(temp, { force: true });
    }
    copied.push(name);
  }
  if (copied.length > 0)
    req.log.info(`brought ${copied.length} earlier report files from ${where} into ${req.localDir}`, {
      copied: copied.length,
    });
  // The bucket is where the reports are, and a day's manifest there vouches for its files (src/report/
  // day-writer.ts publishDay). A report file the run would read that --local-out holds and the bucket does not
  // (a run stopped, or an upload refused, before the day was published whole; a file deleted from the bucket;
  // a --local-out kept from a run into another prefix) would stand for the bucket's: a manifest would make
  // backfill take as current a day the bucket lacks, and skip it every time; a parity file would be the
  // baseline a day is judged restated against, or a day of the volume guard's history. Such files are moved
  // into NOT_IN_BUCKET below --local-out (not removed: an engineer's own reports are not taken away), so each
  // day is judged by what the bucket holds.
  const inBucket = new Set(found.map((f) => f.name.slice(req.prefix.length)));
  const moved: string[] = [];
  // A folder of this run's own below it: a later run's move never replaces what an earlier one moved.
  const aside = path.join(req.localDir, NOT_IN_BUCKET, new Date().toISOString().replace(/[:.]/g, '-'));
  for (const name of [...wanted].sort()) {
    if (inBucket.has(name) || !(await isFile(path.join(req.localDir, name)))) continue;
    try {
      if (moved.length === 0) await mkdir(aside, { recursive: true });
      await rename(path.join(req.localDir, name), path.join(aside, name));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      throw new OutputError(aside, code, `cannot move ${name}, which ${where} does not hold, aside there`);
    }
    moved.push(name);
  }
  if (moved.length > 0)
    req.log.warn(
      `moved ${moved.length} report file${moved.length === 1 ? '' : 's'} that ${where} does not hold from ` +
        `${req.localDir} into ${aside} ` +
        `(${moved.slice(0, 5).join(', ')}${moved.length > 5 ? ', …' : ''}): the run judges each day by the bucket`,
      { moved: moved.length },
    );
  return copied;
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (st) => st.isFile(),
    () => false,
  );
}

/** base64 md5 of a local file, as GCS states it; null when the file cannot be read. */
async function md5Of(file: string): Promise<string | null> {
  try {
    const hash = createHash('md5');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('base64');
  } catch {
    return null;
  }
}
