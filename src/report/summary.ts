import type { ParityColumn, ParityRow } from './columns.js';

const SUMMARY_COLUMNS: readonly [ParityColumn, string][] = [
  ['date', 'date'],
  ['status', 'status'],
  ['proxy_requests', 'requests'],
  ['accepted_distinct', 'accepted'],
  ['rejected_413', '413'],
  ['rejected_502', '502'],
  ['retry_recovered', 'retried ok'],
  ['gcs_records', 'landed'],
  ['duplicates', 'dupes'],
  ['late_arrivals', 'late'],
  ['missing', 'missing'],
  ['unknown_site', 'bad site'],
  ['missing_unexplained', 'unexplained'],
  ['parity_pct', 'parity %'],
];

/** A fixed-width table of each day's ALL row, for a terminal. Pure. */
export function renderSummaryTable(days: readonly { rows: readonly ParityRow[] }[]): string {
  const rows = days.map((d) => d.rows.at(-1)!).map((r) => SUMMARY_COLUMNS.map(([c]) => (r[c] === null ? '-' : String(r[c]))));
  const header = SUMMARY_COLUMNS.map(([, title]) => title);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}
