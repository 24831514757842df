// One run at a time per output: a lease on the reports folder and on a gs:// --out prefix.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { link, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { setTimeout as sleep } from 'node:timers/promises';
import { TierError, UsageError } from '../errors.js';
import { errnoOf, noHardLinks } from '../folders.js';
import { onForcedExit } from '../forced-exit.js';
import { describeFailure, retrying, retryPolicy } from './gcs-failures.js';
import {
  describeHolder,
  type LeaseHolder,
  type LeaseOptions,
  lost,
  meet,
  parseHolder,
  RENEW_MS,
  taken,
} from './lease-holder.js';

export { type LeaseHolder, leaseHolder, type LeaseOptions } from './lease-holder.js';

/** The lease's file (in the local folder) and object (under the gs:// prefix). */
export const LEASE_NAME = '.parity-run.lock';

/**
 * A run's hold on where it writes. Two runs writing one folder or prefix at once mix their reports: a
 * day's parity file from one beside the other's missing list, or an older reading of a day put back
 * over a newer one without a word (each run judges `restated` against what it found when it began).
 */
export interface OutputLease {
  /** Before a day's reports are committed: throws OutputError (exit 5) when another run took the lease over. */
  confirm(): Promise<void>;
  /**
   * Before a day's files already written are uploaded: throws OutputError (exit 5) when another run took the
   * lease over, as confirm, but only reads (a bucket takes one write a second to an object: a renewal per
   * upload would be refused).
   */
  check(): Promise<void>;
  /** Lets go (only a lease still ours); never throws. */
  release(): Promise<void>;
}

/**
 * Puts the lease at `file` only where none is: linked from `temp` (made whole or not at all), or where the
 * file system has no hard links (a FUSE mount of a bucket, vfat, some SMB shares), created exclusively and
 * then written. False: a lease is there.
 */
async function place(temp: string, file: string, text: string): Promise<boolean> {
  try {
    await link(temp, file);
    return true;
  } catch (e) {
    // ENOENT: the temporary was swept away since it was written (another pid namespace's run): try again
    if (errnoOf(e) === 'EEXIST' || errnoOf(e) === 'ENOENT') return false;
    if (!noHardLinks(e)) throw e;
  }
  try {
    await writeFile(file, text, { flag: 'wx' });
    return true;
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Removes the stale lease `found` from `file`, and only it, under a second, short-lived lock
 * (`file.takeover`, made exclusively): of runs taking one stale lease over at once, only the lock's holder
 * removes it, after reading it again, so no run removes the new lease another has just put in its place
 * (a read-compare-remove without it did). A lock left by a run killed mid-takeover goes after 30 s.
 */
async function takeAway(file: string, found: string): Promise<void> {
  const lock = `${file}.takeover`;
  try {
    await writeFile(lock, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if (errnoOf(e) !== 'EEXIST') throw e;
    const age = await stat(lock).then(
      (st) => Date.now() - st.mtimeMs,
      () => 0,
    );
    if (age > 30_000) await rm(lock, { force: true });
    await sleep(50 + Math.random() * 100); // another run is taking it over: look again
    return;
  }
  try {
    if ((await readFile(file, 'utf8').catch(() => null)) === found) await rm(file, { force: true });
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * The lease on a local reports folder: `dir/.parity-run.lock`, made whole or not at all (written beside,
 * then linked into place), renewed by its mtime. A lease whose run is gone (its pid, on this host) or that
 * has not been renewed for `staleMs` is taken over. `flag` names the folder's flag in messages.
 */
export async function acquireLocalLease(
  dir: string,
  holder: LeaseHolder,
  flag: string,
  options: LeaseOptions = {},
): Promise<OutputLease> {
  const file = path.join(dir, LEASE_NAME);
  const text = JSON.stringify(holder) + '\n';
  // A name removeStaleTemporaries sweeps when a run is killed between writing and linking it.
  const temp = path.join(dir, `.${LEASE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    let seen: number | undefined;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 10) throw taken(dir, flag, 'one that began at the same moment');
      // Written afresh before each attempt: a link keeps the file's mtime, the lease's renewal, so a lease placed
      // after a wait would be as old as the wait (past staleMs: another run took it before its first renewal,
      // before 0.3.7); and a sweep by a run in another pid namespace may have removed it meanwhile.
      await writeFile(temp, text);
      if (await place(temp, file, text)) break;
      const found = await readFile(file, 'utf8').catch(() => null);
      const since = await stat(file).then(
        (s) => s.mtimeMs,
        () => null,
      );
      // Released between our attempt and the read: try again.
      if (found === null || since === null) continue;
      const other = parseHolder(found);
      const verdict = await meet(other, holder, since, options, seen);
      seen = since;
      if (verdict === 'held') throw taken(dir, flag, describeHolder(other, since));
      if (verdict === 'stale') await takeAway(file, found);
    }
  } finally {
    await rm(temp, { force: true });
  }
  const timer = setInterval(() => {
    const now = new Date();
    void utimes(file, now, now).catch(() => undefined);
  }, options.renewMs ?? RENEW_MS);
  timer.unref();
  const ours = async () => (await readFile(file, 'utf8').catch(() => null)) === text;
  // Ended at once (a second Ctrl-C), the run still lets go of the folder: the next run, here or on another
  // machine sharing the folder, need not wait the lease out.
  const forget = onForcedExit(() => {
    if (readFileSync(file, 'utf8') === text) rmSync(file, { force: true });
  });
  return {
    async confirm() {
      if (!(await ours())) throw lost(dir, flag);
      const now = new Date();
      await utimes(file, now, now).catch(() => undefined);
    },
    async check() {
      if (!(await ours())) throw lost(dir, flag);
    },
    async release() {
      clearInterval(timer);
      forget();
      if (await ours()) await rm(file, { force: true }).catch(() => undefined);
    },
  };
}

/**
 * The lease on `gs://bucket/prefix`: the object `prefix.parity-run.lock`, created only where none is
 * (ifGenerationMatch 0) and renewed by writing it again over its own generation, so that of two runs
 * exactly one holds it. One not renewed for `staleMs` (by the bucket's clock) is taken over, again over
 * its generation. A renewal the bucket refuses for a generation that changed means another run took it.
 */
export async function acquireGcsLease(
  storage: Storage,
  bucket: string,
  prefix: string,
  holder: LeaseHolder,
  options: LeaseOptions & { retryAttempts?: number; retryBaseDelayMs?: number } = {},
): Promise<OutputLease> {
  const name = `${prefix}${LEASE_NAME}`;
  const where = `gs://${bucket}/${name}`;
  const file = storage.bucket(bucket).file(name);
  const policy = retryPolicy(options);
  const describe = (e: unknown) => {
    const failure = describeFailure(e, {
      403: `permission denied (403) — the credentials need storage.objects.create and delete on bucket "${bucket}"`,
      404: `bucket "${bucket}" does not exist (404) — check the --out location`,
    });
    return { ...failure, message: `cannot hold the run's lease: ${failure.message}` };
  };
  const text = JSON.stringify(holder) + '\n';
  const call = <T>(request: () => Promise<T>) => retrying('--out', where, policy, undefined, describe, request);
  /** Writes the lease over `generation` (0: only where none is); the new generation, or null when refused. */
  const write = (generation: number): Promise<number | null> =>
    call(async () => {
      try {
        await file.save(text, {
          resumable: false,
          contentType: 'application/json',
          metadata: { cacheControl: 'no-cache' },
          preconditionOpts: { ifGenerationMatch: generation },
        });
        return Number(file.metadata.generation);
      } catch (e) {
        if ((e as { code?: unknown }).code === 412) return null;
        throw e;
      }
    });
  const read = (): Promise<{ generation: number; updated: number; text: string } | null> =>
    call(async () => {
      try {
        const [[metadata], [body]] = await Promise.all([file.getMetadata(), file.download()]);
        return {
          generation: Number(metadata.generation),
          updated: Date.parse(String(metadata.updated)),
          text: `${body}`,
        };
      } catch (e) {
        if ((e as { code?: unknown }).code === 404) return null;
        throw e;
      }
    });
  // The first request to the bucket: one that does not exist is a wrong --out (exit 2), nothing read yet.
  let generation = await write(0).catch((e: unknown) => {
    if (e instanceof TierError && (e.cause as { code?: unknown } | undefined)?.code === 404)
      throw new UsageError('--out', `bucket "${bucket}" does not exist (404) — check the --out location`);
    throw e;
  });
  let seen: number | undefined;
  for (let attempt = 0; generation === null; attempt++) {
    if (attempt > 3) throw taken(where, '--out', 'one that began at the same moment');
    const found = await read();
    if (found === null) {
      generation = await write(0);
      continue;
    }
    if (found.text === text) {
      generation = found.generation; // our own create, retried after its answer was lost
      break;
    }
    // Its renewal dated by the bucket, against this machine's clock (staleMs dwarfs any skew). A stale one
    // is taken over only at the generation read: of two runs taking it over, one wins.
    const other = parseHolder(found.text);
    const verdict = await meet(other, holder, found.updated, options, seen);
    seen = found.updated;
    if (verdict === 'held') throw taken(where, '--out', describeHolder(other, found.updated));
    if (verdict === 'stale') generation = await write(found.generation);
  }
  let held: number = generation;
  let gone = false;
  // One renewal at a time: two writes over one generation would refuse each other.
  let renewing: Promise<void> = Promise.resolve();
  const renew = () =>
    (renewing = renewing.then(async () => {
      if (gone) return;
      const next = await write(held).catch(() => undefined); // a failed renewal is tried again next time
      if (next !== null) {
        if (next !== undefined) held = next;
        return;
      }
      // Refused: another run took it over, or a renewal the bucket stored lost its answer and was sent again.
      const found = await read().catch(() => undefined);
      if (found === undefined) return; // unknown: tried again next time
      if (found?.text === text) held = found.generation;
      else gone = true;
    }));
  const timer = setInterval(() => void renew(), options.renewMs ?? RENEW_MS);
  timer.unref();
  return {
    async confirm() {
      await renew();
      if (gone) throw lost(where, '--out');
    },
    async check() {
      await renewing;
      if (!gone) {
        const found = await read().catch(() => undefined);
        if (found === null || (found !== undefined && found.text !== text)) gone = true;
        // Ours at another generation: a renewal the bucket stored whose answer was lost.
        else if (found !== undefined) held = found.generation;
      }
      if (gone) throw lost(where, '--out');
    },
    async release() {
      clearInterval(timer);
      if (gone) return;
      await renewing;
      if (!gone) await file.delete({ ifGenerationMatch: held, ignoreNotFound: true }).catch(() => undefined);
    },
  };
}
