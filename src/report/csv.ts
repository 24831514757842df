import { stringify } from 'csv-stringify/sync';
import type { DayKey, IdFacts } from '../domain.js';
import { lastTier, lossCause } from '../reconcile/rules.js';
import { MISSING_HEADER, PARITY_HEADER, type ParityRow, regionColumn } from './columns.js';

/** RFC 4180: CRLF between records, quotes only where a field needs them. */
const CSV_OPTIONS = { record_delimiter: '\r\n' } as const;

/** The parity report as CSV text: the fixed columns, then kafka_<region> per cluster. Pure: the same rows always give the same bytes. */
export function renderParityCsv(rows: readonly ParityRow[], regions: readonly string[] = []): string {
  const header = [...PARITY_HEADER, ...regions.map(regionColumn)];
  return stringify(
    [header, ...rows.map((r) => [...PARITY_HEADER.map((c) => cell(r[c])), ...regions.map((g) => cell(r.regions?.[g] ?? null))])],
    CSV_OPTIONS,
  );
}

export function renderMissingHeader(): string {
  return stringify([MISSING_HEADER as readonly string[]], CSV_OPTIONS);
}

/** Rows of missing-DATE.csv for a chunk of missing ids. Pure. */
export function renderMissingRows(day: DayKey, ids: readonly { site: string; requestId: string; facts: IdFacts }[]): string {
  if (ids.length === 0) return '';
  return stringify(
    ids.map((m) => [day, m.site, m.requestId, lastTier(m.facts), lossCause(m.facts)]),
    CSV_OPTIONS,
  );
}

function cell(v: string | number | null): string {
  return v === null ? '' : String(v);
}
