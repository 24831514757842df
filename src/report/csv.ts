import { stringify } from 'csv-stringify/sync';
import { isoInZone } from '../dates.js';
import type { DayKey, IdFacts, LossWindow } from '../domain.js';
import { lastTier, lossCause } from '../reconcile/rules.js';
import {
  CONTENT_MISMATCH_COLUMN,
  MISMATCH_HEADER,
  MISSING_HEADER,
  WINDOWS_HEADER,
  PARITY_HEADER,
  type ParityColumn,
  type ParityRow,
  regionColumn,
} from './columns.js';

/**
 * RFC 4180: CRLF between records, and a field quoted whenever it holds a CR, an LF, a quote or the
 * delimiter. csv-stringify on its own quotes only a field holding the whole record delimiter (CRLF),
 * so a request id with a lone LF or CR would otherwise split its row.
 */
const CSV_OPTIONS = { record_delimiter: '\r\n', quoted_match: /[\r\n",]/ } as const;

export interface CsvOptions {
  /**
   * Neutralise spreadsheet formulas in text that comes from the input (OWASP CSV injection): a
   * text cell starting with `=`, `+`, `-`, `@`, TAB, CR — or `'`, so that the rule can be undone —
   * gets one `'` in front. False writes every value as it is, for machine consumers.
   */
  formulaGuard: boolean;
}

export const DEFAULT_CSV_OPTIONS: CsvOptions = { formulaGuard: true };

/**
 * Characters a spreadsheet reads as the start of a formula (OWASP; ASVS 5.0 adds NUL, which some drop
 * before reading the rest), and the guard's own `'`.
 */
const GUARDED_START = /^[=+\-@\t\r\0']/;

/** A text cell as the formula guard writes it. Pure. */
export function guardCell(value: string): string {
  return GUARDED_START.test(value) ? `'${value}` : value;
}

/** The value behind a cell the formula guard wrote: exactly one leading `'` is the guard's. Pure. */
export function unguardCell(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

/**
 * Parity columns that hold text (a site, a message naming an object); every other column holds a
 * number or one of our own words, which the guard never touches (a negative `unexplained` stays -9).
 */
export const PARITY_GUARDED_COLUMNS: ReadonlySet<ParityColumn> = new Set<ParityColumn>([
  'site',
  'error',
  'status_reason',
]);

/**
 * The parity report as CSV text: the fixed columns, then kafka_<region> per cluster, then content_mismatch (empty
 * unless `compare` counted it). Pure: the same rows always give the same bytes.
 */
export function renderParityCsv(
  rows: readonly ParityRow[],
  regions: readonly string[] = [],
  options: CsvOptions = DEFAULT_CSV_OPTIONS,
): string {
  const header = [...PARITY_HEADER, ...regions.map(regionColumn), CONTENT_MISMATCH_COLUMN];
  const text = (v: string) => (options.formulaGuard ? guardCell(v) : v);
  return stringify(
    [
      header,
      ...rows.map((r) => [
        ...PARITY_HEADER.map((c) => {
          const v = cell(r[c]);
          return PARITY_GUARDED_COLUMNS.has(c) ? text(v) : v;
        }),
        ...regions.map((g) => cell(r.regions?.[g] ?? null)),
        cell(r.content_mismatch ?? null),
      ]),
    ],
    CSV_OPTIONS,
  );
}

export function renderMissingHeader(): string {
  return stringify([MISSING_HEADER as readonly string[]], CSV_OPTIONS);
}

/** A zone for every site (`zoneOfSite`), or one zone for all. */
export type ZoneOfSite = string | ((site: string) => string);

const zoneFor = (zone: ZoneOfSite, site: string): string => (typeof zone === 'string' ? zone : zone(site));

/**
 * Rows of missing-DATE.csv for a chunk of missing ids; `site` and `request_id` are text from the input. Pure.
 * `accepted_at`: the accepted proxy line's instant in the site's zone, empty when unknown.
 */
export function renderMissingRows(
  day: DayKey,
  ids: readonly { site: string; requestId: string; facts: IdFacts; acceptedMs?: number | null }[],
  options: CsvOptions = DEFAULT_CSV_OPTIONS,
  zone: ZoneOfSite = 'UTC',
): string {
  if (ids.length === 0) return '';
  const text = (v: string) => (options.formulaGuard ? guardCell(v) : v);
  return stringify(
    ids.map((m) => [
      day,
      text(m.site),
      text(m.requestId),
      lastTier(m.facts),
      lossCause(m.facts),
      m.acceptedMs === null || m.acceptedMs === undefined ? '' : isoInZone(m.acceptedMs, zoneFor(zone, m.site)),
    ]),
    CSV_OPTIONS,
  );
}

/**
 * mismatch-DATE.csv: one row per id whose compared fields differ between Kafka and the final tier;
 * `site` and `request_id` are text from the input (guarded), `fields` the config's paths. Pure.
 */
export function renderMismatchCsv(
  day: DayKey,
  ids: readonly { site: string; requestId: string; fields: readonly string[] }[],
  options: CsvOptions = DEFAULT_CSV_OPTIONS,
  withHeader = false,
): string {
  const text = (v: string) => (options.formulaGuard ? guardCell(v) : v);
  const rows = ids.map((m) => [day, text(m.site), text(m.requestId), m.fields.join(';')]);
  if (!withHeader && rows.length === 0) return '';
  return stringify(withHeader ? [MISMATCH_HEADER as readonly string[], ...rows] : rows, CSV_OPTIONS);
}

/**
 * windows-DATE.csv: one row per 15-minute bucket that lost anything (header only when none did);
 * `window_start` in the site's zone with its offset. Pure.
 */
export function renderWindowsCsv(
  day: DayKey,
  windows: readonly LossWindow[],
  options: CsvOptions = DEFAULT_CSV_OPTIONS,
  zone: ZoneOfSite = 'UTC',
): string {
  const text = (v: string) => (options.formulaGuard ? guardCell(v) : v);
  return stringify(
    [
      WINDOWS_HEADER as readonly string[],
      ...windows.map((w) => [
        day,
        text(w.site),
        isoInZone(w.startMs, zoneFor(zone, w.site)),
        String(w.accepted),
        String(w.landed),
        String(w.missing),
        w.leadingCause,
      ]),
    ],
    CSV_OPTIONS,
  );
}

function cell(v: string | number | null): string {
  return v === null ? '' : String(v);
}
