import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { addDays } from '../src/dates.js';
import { ALL_SITES, type DayKey, type Site } from '../src/domain.js';
import { throwIfAborted } from '../src/errors.js';
import type { Logger } from '../src/log/logger.js';
import {
  VOLUME_COLUMNS,
  VOLUME_TRAILING_DAYS,
  VOLUME_WEEKDAY_WINDOW_DAYS,
  type VolumePoint,
} from '../src/reconcile/volume.js';
import type { ParityRow } from '../src/report/columns.js';
import { unguardCell } from '../src/report/csv.js';
import { readManifest } from '../src/report/day-writer.js';

/** How far back the volume guard looks: the longer of its two windows. */
const HISTORY_DAYS = Math.max(VOLUME_TRAILING_DAYS, VOLUME_WEEKDAY_WINDOW_DAYS);

/**
 * The volume guard's history: per site, the tier counts of the reports already in `outDir` for the
 * days before `firstDay` that the guard may look at (and those of the run's own days, which the
 * run replaces as it goes). A report whose manifest names other bytes is skipped with a warning,
 * and so is one that cannot be parsed: a broken file must not set the baseline.
 */
export async function readVolumeHistory(
  outDir: string,
  firstDay: DayKey,
  lastDay: DayKey,
  log: Logger,
): Promise<Map<Site, VolumePoint[]>> {
  const history = new Map<Site, VolumePoint[]>();
  for (let day = addDays(firstDay, -HISTORY_DAYS); day < lastDay; day = addDays(day, 1)) {
    const name = `parity-${day}.csv`;
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(outDir, name));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A history that cannot be read only costs the check its baseline, never the run.
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        log.warn(`volume guard: ${name} cannot be read (${code ?? (e as Error).message}): not used as history`);
      continue;
    }
    const manifest = await readManifest(path.join(outDir, `manifest-${day}.json`), day);
    if (manifest && manifest.files.parity.sha256 !== createHash('sha256').update(bytes).digest('hex')) {
      log.warn(`volume guard: ${name} is not the file its manifest names (edited or half-copied): not used as history`);
      continue;
    }
    let records: Record<string, string>[];
    try {
      records = parse(bytes, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
    } catch (e) {
      log.warn(`volume guard: ${name} is not a readable report (${(e as Error).message}): not used as history`);
      continue;
    }
    for (const record of records) {
      const site = unguardCell(record.site ?? '');
      if (site === '' || site === ALL_SITES || (record.date !== undefined && unguardCell(record.date) !== day))
        continue;
      addVolumePoint(history, site, day, record);
    }
  }
  return history;
}

/** Puts one day's counts of a site into the history, replacing what it held for that day (none for a NO_DATA row). */
export function addVolumePoint(
  history: Map<Site, VolumePoint[]>,
  site: Site,
  day: DayKey,
  row: Partial<Record<string, unknown>>,
): void {
  const counts: VolumePoint['counts'] = {};
  // A NO_DATA row is an outage (a feed or a tier that held nothing): its zeros would pull the median down
  // and hide the drop of the days after it (a feed back at 30 % passed). It is no baseline day.
  if (row.status === 'NO_DATA') {
    history.set(site, [...(history.get(site) ?? []).filter((p) => p.day !== day), { day, counts }]);
    return;
  }
  for (const column of VOLUME_COLUMNS) {
    const v = row[column];
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null;
    if (n !== null) counts[column] = n;
  }
  const points = (history.get(site) ?? []).filter((p) => p.day !== day);
  points.push({ day, counts });
  history.set(site, points);
}

/** A computed day's site rows into the history, for the days of the same run after it. */
export function addDayToHistory(history: Map<Site, VolumePoint[]>, rows: readonly ParityRow[]): void {
  for (const row of rows) {
    if (row.site === ALL_SITES) continue;
    addVolumePoint(history, String(row.site), String(row.date), row);
  }
}

/**
 * The volume guard's history as a run makes it: the reports already in --out, then each day of the run
 * as it is attributed (add). `before(day)` is what that day's guard reads; it waits until every day of
 * the run in the guard's window before `day` is in. Batches that run at once (backfill --concurrency)
 * then give each day the baseline a run of the days in order gives it, whatever batchDays or
 * --concurrency are, or which batch counts first; their reading and counting still overlap.
 */
export class VolumeLedger {
  private readonly pending: Set<DayKey>;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly history: Map<Site, VolumePoint[]>,
    runDays: readonly DayKey[],
  ) {
    this.pending = new Set(runDays);
  }

  async before(day: DayKey, signal?: AbortSignal): Promise<ReadonlyMap<Site, readonly VolumePoint[]>> {
    const from = addDays(day, -HISTORY_DAYS);
    const waiting = () => [...this.pending].some((d) => d >= from && d < day);
    while (waiting()) {
      throwIfAborted(signal);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        signal?.addEventListener('abort', stop, { once: true });
        this.waiters.push(() => {
          signal?.removeEventListener('abort', stop);
          resolve();
        });
      });
    }
    throwIfAborted(signal);
    return this.history;
  }

  add(day: DayKey, rows: readonly ParityRow[]): void {
    addDayToHistory(this.history, rows);
    this.pending.delete(day);
    const woken = this.waiters;
    this.waiters = [];
    for (const w of woken) w();
  }
}
