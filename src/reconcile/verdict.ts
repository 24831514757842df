// A row's grading: the status rules, the parity figure and the thresholds' defaults. Pure.
import { type ParityColumn, type ParityRow, type RowStatus, UNKNOWN_SITE } from '../domain.js';
import { comparePct } from './volume.js';

export const DEFAULT_LANDED_NOT_ACCEPTED_PCT = 0.5;
export const DEFAULT_VOLUME_DROP_PCT = 50;

/** What grading a row reads: the row, its final figures and the thresholds. */
export interface VerdictFacts {
  row: ParityRow;
  accepted: number;
  missing: number;
  finalDistinct: number;
  landedNotAccepted: number;
  /** The volume guard's findings for the row. */
  drops: string[];
  thresholds: { warnPct: number; failPct: number; landedNotAcceptedPct: number };
  finalTier: 'gcs' | 'bigquery';
}

/**
 * The tiers configured and read for the row, with their count of records that carry a request id: Kafka's
 * messages less those with none (kafka_records counts every message; the file tiers' and BigQuery's counts
 * leave malformed records out already). A Kafka tier whose every message lacks a usable id (a requestId
 * source that names the wrong header or field) holds nothing to reconcile, as an empty one.
 */
function tierCounts(f: VerdictFacts): [string, number][] {
  const kafka = num(f.row.kafka_records);
  const counts: [string, number | null][] = [
    ['kafka', kafka === null ? null : kafka - (num(f.row.kafka_malformed) ?? 0)],
    ['gcs', num(f.row.gcs_records)],
    ['bigquery', num(f.row.bq_rows)],
  ];
  return counts.filter((c): c is [string, number] => c[1] !== null);
}

const notUnknown = (f: VerdictFacts): boolean => f.row.site !== UNKNOWN_SITE;

/**
 * A row's Kafka messages by its clusters' own counts (kafka_records is empty when one cluster's retention no
 * longer held the day: an EXPIRED cluster counts 0 here). Pure.
 */
export function clusterMessages(row: Pick<ParityRow, 'regions'>): number {
  return Object.values(row.regions ?? {}).reduce<number>((n, x) => n + (typeof x === 'number' ? x : 0), 0);
}

/**
 * How a row is graded, worst first: the row's status is the first rule that speaks; its
 * status_reason is every rule that speaks, that one first. ERROR (a tier unread) is decided
 * before these. A site with data on one side only never reaches PASS: no proxy records is
 * NO_DATA (UNKNOWN exists only because records do), an empty tier under proxy records (accepted
 * or not: a day of only rejections is an outage too) is NO_DATA for a configured site, and under
 * accepted ids parity 0 (FAIL) for UNKNOWN, whose losses have a cause of their own; landed ids
 * with none accepted WARN, and so do UNKNOWN's proxy lines none of them accepted with nothing landed,
 * UNKNOWN's Kafka messages with no proxy line and nothing landed, and UNKNOWN's malformed lines alone.
 */
const STATUS_RULES: readonly { status: RowStatus; reason: (f: VerdictFacts) => string | null }[] = [
  {
    status: 'ERROR',
    reason: (f) => (f.row.error ? `ERROR ${String(f.row.error)}` : null),
  },
  {
    status: 'NO_DATA',
    reason: (f) => {
      if (!notUnknown(f) || f.row.proxy_requests !== 0) return null;
      const malformed = num(f.row.proxy_malformed) ?? 0;
      return malformed > 0 ? `no proxy records (${malformed} malformed lines)` : 'no proxy records';
    },
  },
  {
    status: 'NO_DATA',
    reason: (f) => {
      const lines = num(f.row.proxy_requests) ?? 0;
      if (!notUnknown(f) || lines === 0) return null;
      const empty = tierCounts(f)
        .filter(([, n]) => n === 0)
        .map(([t]) => t);
      const verb = empty.length > 1 ? 'hold' : 'holds';
      const proxy = f.accepted > 0 ? `accepted ${f.accepted}` : `holds ${lines} lines, none accepted`;
      const messages = num(f.row.kafka_records) ?? 0;
      const unusable =
        empty.includes('kafka') && messages > 0 ? ` (kafka's ${messages} messages have no usable request id)` : '';
      return empty.length === 0 ? null : `${empty.join(' and ')} ${verb} nothing while the proxy ${proxy}${unusable}`;
    },
  },
  {
    status: 'FAIL',
    reason: (f) =>
      f.accepted > 0 && statusOf(f.accepted - f.missing, f.accepted, f.thresholds) === 'FAIL'
        ? `parity ${String(f.row.parity_pct)} < failPct ${f.thresholds.failPct}`
        : null,
  },
  {
    status: 'WARN',
    reason: (f) =>
      f.accepted > 0 && statusOf(f.accepted - f.missing, f.accepted, f.thresholds) === 'WARN'
        ? `parity ${String(f.row.parity_pct)} < warnPct ${f.thresholds.warnPct}`
        : null,
  },
  {
    status: 'WARN',
    reason: (f) => {
      if (f.landedNotAccepted === 0) return null;
      if (f.accepted === 0) return `${f.landedNotAccepted} ids landed with none accepted`;
      // landed > pct % of accepted, exactly (2.3 % of 3000 is 69, not below it).
      return comparePct(f.landedNotAccepted, f.thresholds.landedNotAcceptedPct, f.accepted) > 0
        ? `landed_not_accepted ${f.landedNotAccepted} > ${f.thresholds.landedNotAcceptedPct}% of ${f.accepted} accepted`
        : null;
    },
  },
  {
    status: 'WARN',
    // A configured site's row is NO_DATA here already (its final tier holds nothing): UNKNOWN's only.
    reason: (f) =>
      !notUnknown(f) && f.accepted === 0 && f.finalDistinct === 0 && num(f.row.proxy_requests)! > 0
        ? `${String(f.row.proxy_requests)} proxy lines, none accepted`
        : null,
  },
  {
    status: 'WARN',
    // UNKNOWN with no proxy line and nothing landed, holding only Kafka's messages or only malformed lines:
    // one side, or one kind, only, never PASS.
    reason: (f) => {
      const lines = num(f.row.proxy_requests);
      if (notUnknown(f) || f.accepted > 0 || f.finalDistinct > 0 || (lines ?? 0) > 0) return null;
      const messages = clusterMessages(f.row);
      if (messages > 0) return lines === 0 ? `${messages} kafka messages, no proxy line` : null;
      const malformed = (['proxy_malformed', 'gcs_malformed', 'bq_malformed'] as const).reduce(
        (n, c) => n + (num(f.row[c]) ?? 0),
        0,
      );
      return malformed > 0 ? `${malformed} malformed lines, no record` : null;
    },
  },
  {
    status: 'WARN',
    reason: (f) => (f.drops.length > 0 ? `volume_drop: ${f.drops.join('; ')}` : null),
  },
];

/** 100 × held ÷ accepted × 10^4, rounded down, in exact integer arithmetic: the parity figure's digits. */
function parityDigits(held: number, accepted: number): bigint {
  return (BigInt(held) * 1_000_000n) / BigInt(accepted);
}

const REASON_JOIN = '; ';

/**
 * What explains the rule that decided a row, read from its status_reason (the first part, as the rules
 * above write it): a parity rule is explained by the losses, a landed-ids WARN by the landed ids, the
 * volume guard's WARN by its volume_drop; null for any other rule. Pure.
 */
export function decidedBy(reason: string | null): 'losses' | 'landed' | 'volume' | null {
  const first = reason?.split(REASON_JOIN)[0] ?? '';
  if (first.startsWith('parity ')) return 'losses';
  if (/^landed_not_accepted |^\d+ ids landed with none accepted/.test(first)) return 'landed';
  if (first.startsWith('volume_drop: ')) return 'volume';
  return null;
}

/**
 * 100 × held ÷ accepted to four decimals, rounded down (so a loss of one id in ten million still shows
 * below 100.0000, and the figure is never above the ratio it states); null when nothing was accepted (no
 * ratio to state). Parity passes held = accepted − missing.
 */
export function formatParity(held: number, accepted: number): string | null {
  if (accepted === 0) return null;
  const s = parityDigits(held, accepted).toString().padStart(5, '0');
  return `${s.slice(0, -4)}.${s.slice(-4)}`;
}

/**
 * The grade of held ÷ accepted against the thresholds, as formatParity states it: a reader who compares
 * the figure in the report with the thresholds gets the status the report gives (for thresholds of at
 * most four decimals the same as grading the exact ratio; finer ones grade the stated figure, which is
 * never above the ratio). Accepted 0: PASS if nothing held, else WARN.
 */
export function statusOf(held: number, accepted: number, t: { warnPct: number; failPct: number }): RowStatus {
  if (accepted === 0) return held === 0 ? 'PASS' : 'WARN';
  // Both sides are the doubles nearest their decimals, so a figure equal to a threshold compares equal.
  const pct = Number(parityDigits(held, accepted)) / 10_000;
  if (pct < t.failPct) return 'FAIL';
  if (pct < t.warnPct) return 'WARN';
  return 'PASS';
}

/**
 * The row's status (the first rule that speaks, else PASS) and status_reason (every rule that
 * speaks, that one first).
 */
export function gradeRow(facts: VerdictFacts): { status: RowStatus; reason: string } {
  const matched = STATUS_RULES.map((rule) => ({ status: rule.status, reason: rule.reason(facts) })).filter(
    (m) => m.reason !== null,
  );
  return { status: matched[0]?.status ?? 'PASS', reason: matched.map((m) => m.reason).join(REASON_JOIN) };
}

/** A cell's number, or null for an empty or text cell. */
export function num(v: ParityRow[ParityColumn]): number | null {
  return typeof v === 'number' ? v : null;
}
