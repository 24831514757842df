import { stringify } from 'csv-stringify/sync';
import type { RowStatus } from '../domain.js';
import { oneLine } from '../log/logger.js';
import { DEFAULT_CSV_OPTIONS, type CsvOptions, guardCell } from './csv.js';
import { type RowVerdict, type SummaryDay, summarizeDay } from './summary.js';

/** The machine-readable summaries (--format json|csv): the same verdicts as the table, as data. */

/** One parity row as the machine-readable summaries show it. */
export interface SummaryRowFacts {
  site: string;
  status: RowStatus;
  parity_pct: string | null;
  /** The cause column (`unknown_site`), `error` or `status_reason`; empty when nothing explains the row. */
  leading_cause: string | null;
  leading_count: number | null;
  /** `unknown site −67`, or the error's or reason's text. */
  detail: string | null;
}

/** One row of a machine-readable summary: the day's verdict repeated beside each row's own. */
export interface SummaryRecord extends SummaryRowFacts {
  date: string;
  day_status: RowStatus;
  /** The ALL row's parity. */
  day_parity_pct: string | null;
  /** The sites behind the day's status. */
  worst_rows: string[];
}

export interface SummaryDocumentDay {
  date: string;
  status: RowStatus;
  parity_pct: string | null;
  leading_cause: string | null;
  leading_count: number | null;
  worst_rows: string[];
  summary: string;
  rows: SummaryRowFacts[];
}

/** The days as data: every row, or with `onlyFailing` only days and rows that are not PASS. Pure. */
export function summaryDocument(
  days: readonly SummaryDay[],
  options: { onlyFailing?: boolean } = {},
): SummaryDocumentDay[] {
  return days.flatMap((d) => {
    const v = summarizeDay(d.rows);
    if (options.onlyFailing && v.status === 'PASS') return [];
    const lead = v.rows[0]?.leadingCause ?? null;
    return [
      {
        date: d.day ?? String(d.rows[0]?.date ?? ''),
        status: v.status,
        parity_pct: v.parity_pct,
        leading_cause: lead?.column ?? null,
        leading_count: lead?.count ?? null,
        worst_rows: v.rows.map((r) => r.site),
        summary: oneLine(v.text),
        rows: v.all.filter((r) => !options.onlyFailing || r.status !== 'PASS').map(rowRecord),
      },
    ];
  });
}

export type SummaryRowRecord = SummaryDocumentDay['rows'][number];

/** A row's verdict as flat data, for logs and documents: its detail shown as a log line shows it. Pure. */
export function rowRecord(r: RowVerdict): SummaryRowRecord {
  return {
    site: r.site,
    status: r.status,
    parity_pct: r.parity_pct,
    leading_cause: r.leadingCause?.column ?? null,
    leading_count: r.leadingCause?.count ?? null,
    detail: r.leadingCause ? oneLine(r.leadingCause.text) : null,
  };
}

/** One JSON document: an array of days. Pure. */
export function renderSummaryJson(days: readonly SummaryDay[], options: { onlyFailing?: boolean } = {}): string {
  return JSON.stringify(summaryDocument(days, options), null, 2) + '\n';
}

export const SUMMARY_CSV_HEADER = [
  'date',
  'day_status',
  'day_parity_pct',
  'worst_rows',
  'site',
  'status',
  'parity_pct',
  'leading_cause',
  'leading_count',
  'detail',
] as const;

/**
 * RFC 4180, a header then one line per row of each day (the day's verdict repeated); `worst_rows`
 * space-separated. Quoted and formula-guarded as the reports are (`detail` carries object names). Pure.
 */
export function renderSummaryCsv(
  days: readonly SummaryDay[],
  options: { onlyFailing?: boolean } & Partial<CsvOptions> = {},
): string {
  const guard = options.formulaGuard ?? DEFAULT_CSV_OPTIONS.formulaGuard;
  const textCell = (v: string | null) => (v === null ? '' : guard ? guardCell(v) : v);
  const records = summaryDocument(days, options).flatMap((d) =>
    d.rows.map((r) => [
      d.date,
      d.status,
      d.parity_pct ?? '',
      textCell(d.worst_rows.join(' ')),
      textCell(r.site),
      r.status,
      r.parity_pct ?? '',
      r.leading_cause ?? '',
      r.leading_count === null ? '' : String(r.leading_count),
      textCell(r.detail),
    ]),
  );
  return stringify([[...SUMMARY_CSV_HEADER], ...records], { record_delimiter: '\r\n', quoted_match: /[\r\n",]/ });
}
