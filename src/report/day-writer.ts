import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DayKey, DaySummary, IdFacts, LossWindow, ParityRow, Site, WorstWindow } from '../domain.js';
import { throwIfAborted } from '../errors.js';
import {
  type CsvOptions,
  type ZoneOfSite,
  renderMismatchCsv,
  renderMissingHeader,
  renderMissingRows,
  renderParityCsv,
  renderWindowsCsv,
} from './csv.js';
import {
  type Baseline,
  type DayManifest,
  parseManifest,
  renderManifest,
  type RunMetadata,
  worstStatus,
} from './manifest.js';
import { holdingForcedExit } from '../forced-exit.js';
import { commitAll, discardAll, type PreparedFile, prepareFile, removeReportFile, type WriteResult } from './writer.js';

/** One missing id as the missing list renders it. */
export interface MissingIdRow {
  site: Site;
  requestId: string;
  facts: IdFacts;
  /** The earliest accepted proxy line's instant (epoch ms), for accepted_at. */
  acceptedMs: number | null;
}

/** One id of mismatch-DAY.csv. */
export interface MismatchRow {
  site: Site;
  requestId: string;
  /** The differing compared fields' paths, in config order. */
  fields: readonly string[];
}

/** One day's reports to write. */
export interface DayReports {
  day: DayKey;
  rows: ParityRow[];
  /** The Kafka clusters' regions, in config order: one parity column each. */
  regions: readonly string[];
  /**
   * The day's missing ids in report order, a chunk at a time; called only for a complete list.
   * The list needs the proxy and the final tier: `listComplete` is false when either could not be read.
   */
  missingIds: () => AsyncIterable<readonly MissingIdRow[]>;
  listComplete: boolean;
  /**
   * `compare` on: the day's ids whose compared fields differ, in report order, a chunk at a time; null
   * when the day could not be compared whole (no mismatch file then). Absent: compare is off.
   */
  mismatches?: (() => AsyncIterable<readonly MismatchRow[]>) | null;
  /** The day's loss windows, from the engine; absent where it counts none (no windows file then). */
  lossWindows?: () => Promise<readonly LossWindow[]>;
  /** The sites the report has rows for, for the manifest. */
  sites: string[];
  csv: CsvOptions;
  /** Each site's zone (zoneOfSite), or the configured one for all: accepted_at's and window_start's offset. */
  zone: ZoneOfSite;
  /** When given, a manifest-DAY.json is written with the day's files. */
  run?: RunMetadata;
  /** When the day's batch began, its reading included: the manifest's durationMs counts from here. */
  batchStarted: number;
}

/** The files of one day in `outDir`. */
export function dayFiles(
  outDir: string,
  day: DayKey,
): { parity: string; missing: string; windows: string; mismatch: string; manifest: string } {
  return {
    parity: path.join(outDir, `parity-${day}.csv`),
    missing: path.join(outDir, `missing-${day}.csv`),
    windows: path.join(outDir, `windows-${day}.csv`),
    mismatch: path.join(outDir, `mismatch-${day}.csv`),
    manifest: path.join(outDir, `manifest-${day}.json`),
  };
}

/**
 * Writes one day's reports: every file is prepared beside its target first, then all are renamed
 * into place, the manifest last, so that a failure on the way leaves the day's old files as they
 * were; nothing of a stopped run (`signal`) is committed. An incomplete missing list would read as
 * "nothing else is missing": none is written, and an older one is removed.
 */
export async function writeDayReports(
  outDir: string,
  r: DayReports,
  signal: AbortSignal | undefined,
): Promise<DaySummary> {
  const files = dayFiles(outDir, r.day);
  const prepared: PreparedFile[] = [];
  let change: DaySummary['change'];
  let missingFile: string | null;
  let windowsFile: string | null;
  let worstWindow: WorstWindow | null;
  let mismatchFile: string | null = null;
  try {
    const missing = r.listComplete ? await prepareFile(files.missing, missingCsv(r)) : null;
    if (missing) prepared.push(missing);
    const parity = await prepareFile(files.parity, [renderParityCsv(r.rows, r.regions, r.csv)]);
    prepared.push(parity);
    const prev = r.run ? await readManifest(files.manifest, r.day) : null;
    const baseline = r.run ? baselineOf(prev, parity, missing) : bytesThere(parity, missing);
    // The report as it was last written, byte for byte, is unchanged, whatever the baseline: a day still ERROR
    // the same way is not restated against its last good report each morning (before 0.3.7 it was).
    change = sameAsWritten(prev, parity, missing) ? 'unchanged' : changeOf(baseline, parity, missing);
    missingFile = missing ? files.missing : null;
    const lost = r.listComplete && r.lossWindows ? await r.lossWindows() : null;
    const windows = lost ? await prepareFile(files.windows, [renderWindowsCsv(r.day, lost, r.csv, r.zone)]) : null;
    if (windows) prepared.push(windows);
    windowsFile = windows ? files.windows : null;
    worstWindow = lost ? worstOf(lost, r.zone) : null;
    const listed = r.mismatches;
    const mismatch = listed ? await prepareFile(files.mismatch, mismatchCsv(r.day, listed, r.csv)) : null;
    if (mismatch) prepared.push(mismatch);
    mismatchFile = mismatch ? files.mismatch : null;
    if (r.run) {
      const manifest: DayManifest = {
        ...r.run,
        day: r.day,
        status: worstStatus(r.rows.flatMap((row) => row.status ?? [])),
        sites: r.sites,
        change,
        baseline,
        durationMs: Date.now() - r.batchStarted,
        files: {
          parity: { name: path.basename(files.parity), sha256: parity.sha256 },
          missing: missing ? { name: path.basename(files.missing), sha256: missing.sha256 } : null,
          ...(r.lossWindows
            ? { windows: windows ? { name: path.basename(files.windows), sha256: windows.sha256 } : null }
            : {}),
          ...(r.mismatches !== undefined
            ? { mismatch: mismatch ? { name: path.basename(files.mismatch), sha256: mismatch.sha256 } : null }
            : {}),
        },
      };
      prepared.push(await prepareFile(files.manifest, [renderManifest(manifest)]));
    }
  } catch (e) {
    await discardAll(prepared);
    throw e;
  }
  // The manifest, prepared last, vouches for the day's files: the lists the day no longer has go before it
  // is in place, so a kill in between leaves the old manifest, which no longer matches, rather than the new
  // one beside an old list.
  // A second Ctrl-C waits for these renames (milliseconds) to end rather than leave a day half-committed.
  const manifest = r.run ? prepared.slice(-1) : [];
  const rest = r.run ? prepared.slice(0, -1) : prepared;
  await holdingForcedExit(async () => {
    try {
      await commitAll(rest, signal);
      if (!r.listComplete) await removeReportFile(files.missing);
      if (!windowsFile) await removeReportFile(files.windows);
      if (!mismatchFile) await removeReportFile(files.mismatch);
    } catch (e) {
      await discardAll(manifest);
      throw e;
    }
    await commitAll(manifest);
  });
  const { parity: parityFile } = files;
  return { day: r.day, rows: r.rows, parityFile, missingFile, windowsFile, mismatchFile, worstWindow, change };
}

/** Where a run's files are copied (--out gs://…): `files` up, then the copies of `gone` removed where they are. */
export type Publish = (files: string[], gone?: string[]) => Promise<void>;

/**
 * Copies a written day's files elsewhere (--out gs://…): the lists, the parity report, the manifest; and
 * removes there the lists the day no longer has, as they were removed here (an ERROR day has no missing
 * list: an earlier run's must not stay beside its report, reading as the day's). The manifest vouches for
 * the day's files: the old one is removed there first and the new one copied last, after the stale lists
 * are gone, so a day cut short there (a stop, a refused upload or removal, a kill) has no manifest, and
 * the next run redoes it rather than take it as whole (jobs/sync-reports.ts).
 */
export async function publishDay(
  publish: Publish,
  outDir: string,
  written: DaySummary,
  withManifest: boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  throwIfAborted(signal);
  const files = dayFiles(outDir, written.day);
  const manifest = withManifest ? [files.manifest] : [];
  const lists: [string | null | undefined, string][] = [
    [written.missingFile, files.missing],
    [written.windowsFile, files.windows],
    [written.mismatchFile, files.mismatch],
  ];
  const kept = lists.flatMap(([f]) => (f ? [f] : []));
  const gone = lists.flatMap(([f, name]) => (f ? [] : [name]));
  if (withManifest) await publish([], manifest);
  await publish([...kept, written.parityFile], gone);
  if (withManifest) await publish(manifest);
}

/** The window that lost most, the first of equals (report order), in its site's zone: a day's worst window. Pure. */
export function worstOf(windows: readonly LossWindow[], zone: ZoneOfSite): WorstWindow | null {
  const worst = windows.reduce<LossWindow | null>((w, x) => (w === null || x.missing > w.missing ? x : w), null);
  return worst ? { ...worst, zone: typeof zone === 'string' ? zone : zone(worst.site) } : null;
}

/**
 * The report a day's new one is judged against: the last one that was not ERROR, as its manifest
 * recorded it. A report of a tier that could not be read is no baseline: a day good, then ERROR for a
 * transient failure, then good again as before is unchanged (it was restated twice, the second time
 * against the ERROR report). Without a manifest (none, or not ours): the files there, as before 0.3.3.
 */
function baselineOf(prev: DayManifest | null, parity: WriteResult, missing: WriteResult | null): Baseline | null {
  if (prev === null) return bytesThere(parity, missing);
  if (prev.status === 'ERROR' && prev.baseline !== undefined) return prev.baseline;
  return { parity: prev.files.parity.sha256, missing: prev.files.missing?.sha256 ?? null };
}

function sameAsWritten(prev: DayManifest | null, parity: WriteResult, missing: WriteResult | null): boolean {
  return (
    prev !== null &&
    prev.files.parity.sha256 === parity.sha256 &&
    (prev.files.missing?.sha256 ?? null) === (missing?.sha256 ?? null)
  );
}

function bytesThere(parity: WriteResult, missing: WriteResult | null): Baseline | null {
  return parity.previousSha256 === null
    ? null
    : { parity: parity.previousSha256, missing: missing?.previousSha256 ?? null };
}

/**
 * `day`'s manifest file, parsed; null when it is not there, not one of ours, or another day's (copied or
 * renamed: its files are that day's, and judging `restated` against them, or vouching for them, is wrong).
 */
export async function readManifest(file: string, day: DayKey): Promise<DayManifest | null> {
  const m = await readFile(file, 'utf8').then(parseManifest, () => null);
  return m?.day === day ? m : null;
}

function changeOf(baseline: Baseline | null, parity: WriteResult, missing: WriteResult | null): DaySummary['change'] {
  if (baseline === null) return 'new';
  const same = baseline.parity === parity.sha256 && (missing === null || baseline.missing === missing.sha256);
  return same ? 'unchanged' : 'restated';
}

async function* mismatchCsv(
  day: DayKey,
  list: () => AsyncIterable<readonly MismatchRow[]>,
  csv: CsvOptions,
): AsyncGenerator<string> {
  yield renderMismatchCsv(day, [], csv, true);
  for await (const chunk of list()) yield renderMismatchCsv(day, chunk, csv);
}

async function* missingCsv(r: DayReports): AsyncGenerator<string> {
  yield renderMissingHeader();
  for await (const chunk of r.missingIds()) yield renderMissingRows(r.day, chunk, r.csv, r.zone);
}
