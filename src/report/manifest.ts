import { parseDay } from '../dates.js';
import type { DayKey, RowStatus } from '../domain.js';

/** Who made a report, with what, and when: written beside each day's CSVs, which stay free of it. */
export interface RunMetadata {
  /** When the run started, ISO-8601 UTC. */
  asOf: string;
  version: string;
  /** The source revision the job was built from, when known. */
  revision: string | null;
  /** sha256 of the validated config: a report made under another config is not current. */
  configHash: string;
  command: string;
}

export interface DayManifest extends RunMetadata {
  day: DayKey;
  /** The worst status of any row of the day (ERROR, then FAIL, NO_DATA, WARN, PASS). */
  status: RowStatus;
  /** The sites the report has rows for (all configured sites, unless --sites chose fewer). */
  sites: string[];
  /**
   * new: first report of the day; unchanged: the same bytes as the baseline; restated: changed since (late
   * data, a config, a tier that could not be read).
   */
  change: 'new' | 'unchanged' | 'restated';
  /**
   * The report `change` was judged against: the last one not ERROR (its parity and missing files' sha256);
   * null: none. Absent in manifests before 0.3.3.
   */
  baseline?: Baseline | null;
  durationMs: number;
  files: {
    parity: { name: string; sha256: string };
    missing: { name: string; sha256: string } | null;
    /** Absent where the engine counts no windows. */
    windows?: { name: string; sha256: string } | null;
    /** Absent without `compare`; null when the day could not be compared whole. */
    mismatch?: { name: string; sha256: string } | null;
  };
}

/** A report as a later one is compared with it: its files' sha256. */
export interface Baseline {
  parity: string;
  missing: string | null;
}

/** Worst last: the order a day's status is chosen by (NO_DATA ranks with FAIL for the exit status, just below it). */
const SEVERITY: readonly RowStatus[] = ['PASS', 'WARN', 'NO_DATA', 'FAIL', 'ERROR'];

/** A status's place in SEVERITY: the higher, the worse. */
export const statusRank = (s: RowStatus): number => SEVERITY.indexOf(s);

/** The worst of a day's row statuses (every summary of a day says this one). Pure. */
export function worstStatus(statuses: readonly RowStatus[]): RowStatus {
  return statuses.reduce<RowStatus>((w, s) => (statusRank(s) > statusRank(w) ? s : w), 'PASS');
}

/** The manifest as file text. Pure. */
export function renderManifest(m: DayManifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The files a manifest names, by kind: each is `KIND-DAY.csv` beside it; parity is always there. */
export const MANIFEST_FILE_KINDS = ['parity', 'missing', 'windows', 'mismatch'] as const;

/** A manifest's file entry: `{ name, sha256 }`, or null where `nullable`. */
function isFileEntry(v: unknown, nullable: boolean): boolean {
  if (v === null) return nullable;
  const f = v as { name?: unknown; sha256?: unknown } | undefined;
  return typeof f === 'object' && typeof f.name === 'string' && typeof f.sha256 === 'string' && SHA256.test(f.sha256);
}

/**
 * Parses a manifest file's text, or null when it is not one of ours, whole: every field a reader trusts
 * has its shape (a file entry with no name crashed backfill's check, exit 4). Pure.
 */
export function parseManifest(text: string): DayManifest | null {
  let m: Partial<DayManifest>;
  try {
    m = JSON.parse(text) as Partial<DayManifest>;
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const files = m.files as Record<string, unknown> | undefined;
  const baseline = m.baseline as { parity?: unknown; missing?: unknown } | null | undefined;
  const whole =
    typeof m.day === 'string' &&
    parseDay(m.day) !== null &&
    typeof m.configHash === 'string' &&
    typeof m.version === 'string' &&
    typeof m.asOf === 'string' &&
    typeof m.status === 'string' &&
    SEVERITY.includes(m.status) &&
    (m.sites === undefined || (Array.isArray(m.sites) && m.sites.every((x) => typeof x === 'string'))) &&
    typeof files === 'object' &&
    files !== null &&
    MANIFEST_FILE_KINDS.every((kind) => isFileEntry(files[kind] ?? null, kind !== 'parity')) &&
    (baseline === undefined ||
      baseline === null ||
      (typeof baseline.parity === 'string' &&
        SHA256.test(baseline.parity) &&
        (baseline.missing === null || (typeof baseline.missing === 'string' && SHA256.test(baseline.missing)))));
  return whole ? (m as DayManifest) : null;
}
