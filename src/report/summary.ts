import { isoInZone, timeInZone } from '../dates.js';
import { oneLine } from '../log/logger.js';
import { fitColumns } from '../log/width.js';
import { ALL_SITES, type DayKey, type RowStatus, type WorstWindow } from '../domain.js';
import type { ParityColumn, ParityRow } from './columns.js';
import { decidedBy } from '../reconcile/verdict.js';
import { statusRank, worstStatus } from './manifest.js';

// Every summary of a run (terminal table, progress bar, per-day log line, webhook, HTML header) says the same thing
// about a day: the worst status across its rows (not the ALL row's), and the rows behind it with their leading
// cause. This module computes that once. Pure.

/** The count columns a row's loss or surplus is split into, with how a summary names them; ties go to the first. */
const CAUSES: readonly { column: string; label: string; sign: '−' | '+' }[] = [
  { column: 'lost_before_kafka', label: 'lost before kafka', sign: '−' },
  { column: 'unknown_site', label: 'unknown site', sign: '−' },
  { column: 'in_flight', label: 'in flight', sign: '−' },
  { column: 'missing_unexplained', label: 'missing unexplained', sign: '−' },
  { column: 'landed_not_accepted', label: 'landed not accepted', sign: '+' },
  { column: 'volume_drop', label: 'volume drop', sign: '−' },
];

/** What most explains a row's status: a cause column and its count, or the text of an error or a reason. */
export interface LeadingCause {
  /** The column it comes from: a cause column, `error` (ERROR rows) or `status_reason`. */
  column: string;
  /** The cause's count; null for the text of an error or a reason. */
  count: number | null;
  /** How a summary shows it: `unknown site −67`, or the error's text as it is (what shows it escapes it: oneLine). */
  text: string;
}

export interface RowVerdict {
  site: string;
  status: RowStatus;
  parity_pct: string | null;
  leadingCause: LeadingCause | null;
}

export interface DayVerdict {
  /** The worst status across the day's rows. */
  status: RowStatus;
  /** The rows that have that status (ALL only when no other row has it); none for a PASS day. */
  rows: RowVerdict[];
  /** Every row of the day in report order, ALL last. */
  all: RowVerdict[];
  /** The ALL row's parity. */
  parity_pct: string | null;
  /**
   * `FAIL: UNKNOWN 81.5 %, unknown site −67`, then any lesser status that also fails a run
   * (`; also NO_DATA: CA, MX`); `PASS` for a day with nothing to name. One line.
   */
  text: string;
  /** The day's worst loss window: `2,104 missing between 14:00 and 14:15, cause lost_before_kafka`; null: none. */
  window: string | null;
}

/**
 * The worst status across a day's rows and the rows behind it, each with its leading cause, and the
 * worst loss window when one is given. Pure.
 */
export function summarizeDay(rows: readonly ParityRow[], worstWindow: WorstWindow | null = null): DayVerdict {
  const all = rows.map(rowVerdict);
  const status = worstStatus(all.map((r) => r.status));
  const sites = all.filter((r) => r.site !== ALL_SITES && r.status === status);
  const named = status === 'PASS' ? [] : sites.length > 0 ? sites : all.filter((r) => r.status === status);
  const allRow = rows.find((r) => r.site === ALL_SITES) ?? rows.at(-1);
  // Lesser statuses that also fail a run (NO_DATA under a FAIL) are named after the worst, by site only.
  const also = EXIT_STATUSES.filter((s) => statusRank(s) < statusRank(status))
    .map((s) => ({ s, sites: all.filter((r) => r.status === s && r.site !== ALL_SITES).map((r) => r.site) }))
    .filter((a) => a.sites.length > 0)
    .map((a) => `; also ${a.s}: ${a.sites.join(', ')}`)
    .join('');
  return {
    status,
    rows: named,
    all,
    parity_pct: allRow ? text(allRow.parity_pct) : null,
    text: named.length === 0 ? status : `${status}: ${describe(named)}${also}`,
    window: worstWindow ? windowText(worstWindow) : null,
  };
}

function windowText(w: WorstWindow): string {
  const endMs = w.startMs + 15 * 60 * 1000;
  const at = timeInZone(w.startMs, w.zone);
  // On a day whose clocks go back, a wall time comes twice: its offset says which; and where the window spans the
  // change, each end has its own (01:45 at −04:00, 01:00 at −05:00), as the HTML's labels give them.
  const twice = [-60, -30, 30, 60].some((m) => timeInZone(w.startMs + m * 60_000, w.zone) === at);
  const offsetAt = (ms: number) => ` (UTC${isoInZone(ms, w.zone).slice(-6)})`;
  const [from, to] = [offsetAt(w.startMs), offsetAt(endMs)];
  const between =
    from !== to
      ? `${at}${from} and ${timeInZone(endMs, w.zone)}${to}`
      : `${at} and ${timeInZone(endMs, w.zone)}${twice ? from : ''}`;
  return `${w.site}, ${w.missing.toLocaleString('en-US')} missing between ${between}, cause ${w.leadingCause}`;
}

/** The statuses that make a run exit non-zero, worst first. */
const EXIT_STATUSES: readonly RowStatus[] = ['ERROR', 'FAIL', 'NO_DATA'];

/** The leading cause of one row: for ERROR its error, for NO_DATA its reason, else the largest cause count behind
 * the rule that decided it (the reason when none counts). Pure. */
export function leadingCause(row: ParityRow): LeadingCause | null {
  const cells = row as Record<string, unknown>;
  const status = row.status;
  const reason = text(cells.status_reason);
  if (status === 'ERROR') {
    const error = text(row.error) ?? reason;
    return error ? { column: row.error ? 'error' : 'status_reason', count: null, text: error } : null;
  }
  if (status === 'NO_DATA') return reason ? { column: 'status_reason', count: null, text: reason } : null;
  let best: LeadingCause | null = null;
  for (const c of causesBehind(reason, cells)) {
    const v = cells[c.column];
    if (typeof v === 'number' && v > 0 && (best === null || v > best.count!))
      best = { column: c.column, count: v, text: `${c.label} ${c.sign}${v}` };
    // A cause given as text (the volume guard's "proxy 1,200 < 50 % of median 2,600") explains a status no count does.
    if (typeof v === 'string' && v !== '' && best === null && status !== 'PASS')
      best = { column: c.column, count: null, text: `${c.label}: ${v}` };
  }
  if (best) return best;
  return status !== 'PASS' && reason ? { column: 'status_reason', count: null, text: reason } : null;
}

// The causes behind the rule that decided a row (decidedBy; landed ids never lower parity), else every cause.
// A WARN the volume guard decided is its drop: a stray missing id beside it explains no fall in traffic.
function causesBehind(reason: string | null, cells: Record<string, unknown>): typeof CAUSES {
  const by = decidedBy(reason);
  if (by === 'volume') return CAUSES.filter((c) => c.column === 'volume_drop');
  const kept =
    by === 'losses'
      ? CAUSES.filter((c) => c.sign === '−' && c.column !== 'volume_drop')
      : by === 'landed'
        ? CAUSES.filter((c) => c.column === 'landed_not_accepted')
        : CAUSES;
  return kept.some((c) => typeof cells[c.column] === 'number' && (cells[c.column] as number) > 0) ? kept : CAUSES;
}

function rowVerdict(r: ParityRow): RowVerdict {
  const status = r.status ?? 'ERROR';
  return { site: String(r.site), status, parity_pct: text(r.parity_pct), leadingCause: leadingCause(r) };
}

/** Rows sharing the text of an error or reason are named once together: `US, CA, MX: gcs: … not valid gzip`. */
function describe(rows: readonly RowVerdict[]): string {
  const parts: { sites: string[]; text: string; shared: boolean }[] = [];
  for (const r of rows) {
    const cause = r.leadingCause;
    const shared = cause !== null && cause.count === null;
    const same = shared ? parts.find((p) => p.shared && p.text === cause.text) : undefined;
    if (same) same.sites.push(r.site);
    else if (shared) parts.push({ sites: [r.site], text: cause.text, shared });
    else
      parts.push({
        sites: [r.site],
        text: [r.parity_pct === null ? null : `${shortPct(r.parity_pct)} %`, cause?.text].filter(Boolean).join(', '),
        shared,
      });
  }
  return parts
    .map((p) => (p.shared ? `${p.sites.join(', ')}: ${p.text}` : [p.sites[0], p.text].filter(Boolean).join(' ')))
    .join('; ');
}

/** `81.5000` → `81.5`: the report keeps four decimals, a summary line needs no trailing zeros. */
function shortPct(p: string): string {
  return /^-?\d+\.\d+$/.test(p) ? p.replace(/\.?0+$/, '') : p;
}

function text(v: unknown): string | null {
  return v === null || v === undefined || v === '' ? null : String(v);
}

// ---------------------------------------------------------------------------------------------
// The terminal table

export interface SummaryDay {
  day?: DayKey;
  rows: readonly ParityRow[];
}

/** The ALL row's columns the table shows, by layout; `status` is the worst row's, `worst_rows` names them. */
const NARROW: readonly ParityColumn[] = ['date', 'status', 'missing', 'unexplained', 'parity_pct'];
const MEDIUM: readonly ParityColumn[] = [
  'date',
  'status',
  'proxy_requests',
  'proxy_accepted',
  'missing',
  'unexplained',
  'parity_pct',
];
const WIDE: readonly ParityColumn[] = [
  'date',
  'status',
  'proxy_requests',
  'proxy_accepted',
  'rejected_413',
  'rejected_502',
  'duplicates',
  'missing',
  'missing_unexplained',
  'landed_not_accepted',
  'unexplained',
  'parity_pct',
];
/** The narrowest `worst_rows` a layout is chosen with: room for `UNKNOWN 81.5 %, unknown site −67`. */
const WORST_ROWS_MIN_CHARS = 36;
export const DEFAULT_TABLE_WIDTH = 100;

export interface SummaryTableOptions {
  /** The terminal's width in columns; lines never exceed it. Default 100. */
  width?: number;
  /** Only the days that are not PASS. */
  onlyFailing?: boolean;
}

/**
 * One line per day: the day's worst status, the ALL row's counts under the CSV's column names,
 * and `worst_rows`, the rows behind the status with their leading cause (cut with … to fit).
 * More columns only when `width` has room for them. Pure.
 */
export function renderSummaryTable(days: readonly SummaryDay[], options: SummaryTableOptions = {}): string {
  const width = Math.max(40, options.width ?? DEFAULT_TABLE_WIDTH);
  const shown = days
    .map((d) => ({ d, v: summarizeDay(d.rows) }))
    .filter(({ v }) => !options.onlyFailing || v.status !== 'PASS');
  const cellsOf = (columns: readonly ParityColumn[]) =>
    shown.map(({ d, v }) => {
      const all = d.rows.find((r) => r.site === ALL_SITES) ?? d.rows.at(-1);
      return columns.map((c) =>
        c === 'status'
          ? v.status
          : c === 'date'
            ? String(all?.date ?? d.day ?? '-')
            : all?.[c] === null || all?.[c] === undefined
              ? '-'
              : String(all[c]),
      );
    });
  const layout = (columns: readonly ParityColumn[]) => {
    const cells = cellsOf(columns);
    const widths = columns.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
    return { columns, cells, widths, fixed: widths.reduce((a, b) => a + b + 2, 0) };
  };
  const layouts = [WIDE, MEDIUM].map(layout);
  const chosen = layouts.find((l) => l.fixed + WORST_ROWS_MIN_CHARS <= width) ?? layout(NARROW);
  const room = Math.max(width - chosen.fixed, 'worst_rows'.length);
  const line = (cells: readonly string[], last: string) =>
    // A terminal narrower than the narrow layout cuts every line, rather than wrapping it.
    fit(
      (
        cells.map((c, i) => (i < 2 ? c.padEnd(chosen.widths[i]!) : c.padStart(chosen.widths[i]!))).join('  ') +
        '  ' +
        fit(last, room)
      ).trimEnd(),
      width,
    );
  const lines = [
    line(chosen.columns, 'worst_rows'),
    line(
      chosen.widths.map((w) => '-'.repeat(w)),
      '-'.repeat(Math.min(room, 'worst_rows'.length)),
    ),
    ...shown.map(({ v }, i) => line(chosen.cells[i]!, oneLine(worstRows(v)))),
  ];
  if (shown.length === 0) lines.push(options.onlyFailing ? 'no day is below PASS' : 'no days');
  lines.push(
    fit('status: the worst row of the day; the counts and parity_pct: ALL; worst_rows: the rows behind status', width),
  );
  return lines.join('\n') + '\n';
}

/** `worst_rows` of a day: what `text` says after the status. */
function worstRows(v: DayVerdict): string {
  return v.rows.length === 0 ? '' : v.text.slice(v.status.length + 2);
}

/** `s` cut to `room` terminal columns (a wide character takes two). */
function fit(s: string, room: number): string {
  return fitColumns(s, Math.max(room, 1));
}
