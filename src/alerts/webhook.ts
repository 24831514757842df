import { setTimeout as sleep } from 'node:timers/promises';
import { ALL_SITES, type DaySummary, type ParityRow, type RowStatus } from '../domain.js';
import { oneLine } from '../log/logger.js';
import { statusOf } from '../reconcile/verdict.js';
import { statusRank } from '../report/manifest.js';
import { summarizeDay } from '../report/summary.js';

/** A webhook that does not answer within this long is given up on: an alert never holds up the job. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * The Slack-compatible message for the days with a row whose status is one of `on` (FAIL takes
 * NO_DATA with it: they rank together), or null when none has. Each day's line is its summary —
 * the worst status across its rows and the rows behind it with their leading cause — then any
 * other status of `on` the day holds, and the ALL row's parity and missing count. Pure.
 */
export function buildAlert(
  days: readonly (Pick<DaySummary, 'day' | 'rows'> & Partial<Pick<DaySummary, 'worstWindow'>>)[],
  on: readonly RowStatus[],
  location: string,
  thresholds?: { warnPct: number; failPct: number },
): { text: string } | null {
  const wanted = new Set<RowStatus>(on.includes('FAIL') ? [...on, 'NO_DATA'] : on);
  // An ERROR row whose parity was still counted (the tier left unread is one parity does not need, as
  // Kafka) is graded too: with `on: [FAIL]`, its FAIL must not go unsaid behind the ERROR.
  const graded = (d: (typeof days)[number]) =>
    d.rows.flatMap((r) => {
      const grade = thresholds && r.site !== ALL_SITES ? gradeUnderError(r, thresholds) : null;
      return grade && wanted.has(grade) ? [{ grade, site: String(r.site), parity: String(r.parity_pct) }] : [];
    });
  const hits = days
    .map((d) => ({ d, v: summarizeDay(d.rows, d.worstWindow ?? null), under: graded(d) }))
    .filter(({ v, under }) => v.all.some((r) => wanted.has(r.status)) || under.length > 0);
  if (hits.length === 0) return null;
  const lines = hits.map(({ d, v, under }) => {
    const others = STATUS_ORDER.filter((s) => s !== v.status && wanted.has(s))
      .map((s) => ({ s, sites: v.all.filter((r) => r.status === s && r.site !== ALL_SITES).map((r) => r.site) }))
      .filter((o) => o.sites.length > 0)
      .map((o) => `; also ${o.s}: ${o.sites.join(', ')}`);
    for (const grade of ['FAIL', 'WARN'] as const) {
      const rows = under.filter((u) => u.grade === grade);
      if (rows.length > 0)
        others.push(`; ${grade} by parity under the ERROR: ${rows.map((u) => `${u.site} ${u.parity} %`).join(', ')}`);
    }
    const all = d.rows.find((r) => r.site === ALL_SITES);
    const parity = all?.parity_pct === null ? 'no parity' : `${String(all?.parity_pct)} %`;
    const missing = typeof all?.missing === 'number' ? `, ${all.missing} missing` : '';
    const totals = all ? ` (ALL ${parity}${missing})` : '';
    const window = v.window ? `; worst window: ${slackText(v.window)}` : '';
    return `• ${d.day}: ${slackText(v.text)}${others.join('')}${totals}${window}`;
  });
  const head = `audit-parity: ${hits.length} day(s) need attention`;
  const tail = `reports: ${slackText(location)}`;
  return {
    text: [
      head,
      ...fitLines(
        lines,
        hits.map(({ v }) => v.status),
      ),
      tail,
    ].join('\n'),
  };
}

/** Slack cuts a message's text past 40,000 characters: the alert stays below, with room for its tail. */
export const ALERT_MAX_CHARS = 38_000;
/** A day's line longer than this (thousands of sites behind its status) is cut, saying so. */
const ALERT_LINE_MAX_CHARS = 2_000;

/**
 * The days' lines that fit the alert, in day order: when all do not, the worst days first, the latest first
 * among equals (a long backfill's alert names its ERROR and FAIL days, not its first weeks), then one line
 * that counts the days left out by status, so that none goes unsaid. Pure.
 */
function fitLines(lines: readonly string[], statuses: readonly RowStatus[]): string[] {
  // Cut before an escape the cut would split (`&l` of `&lt;`), which Slack would show as text, and before half a
  // character outside the BMP (an emoji's first surrogate), which is no text.
  const cutLine = (l: string) =>
    `${l
      .slice(0, ALERT_LINE_MAX_CHARS - 1)
      .replace(/&[a-z]{0,3}$/, '')
      .replace(/[\ud800-\udbff]$/, '')}…`;
  const cut = lines.map((l) => (l.length > ALERT_LINE_MAX_CHARS ? cutLine(l) : l));
  const budget = ALERT_MAX_CHARS - 500; // the head, the tail (a bucket's path) and the count of the rest
  if (cut.reduce((n, l) => n + l.length + 1, 0) <= budget) return cut;
  const order = cut.map((_, i) => i).sort((a, b) => statusRank(statuses[b]!) - statusRank(statuses[a]!) || b - a);
  const kept = new Set<number>();
  let used = 0;
  for (const i of order) {
    if (used + cut[i]!.length + 1 > budget) break;
    kept.add(i);
    used += cut[i]!.length + 1;
  }
  const left = new Map<RowStatus, number>();
  statuses.forEach((s, i) => !kept.has(i) && left.set(s, (left.get(s) ?? 0) + 1));
  const counts = [...left]
    .sort(([a], [b]) => statusRank(b) - statusRank(a))
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const rest = lines.length - kept.size;
  return [...cut.filter((_, i) => kept.has(i)), `… and ${rest} more day(s) (${counts}): see the reports`];
}

/**
 * The grade of an ERROR row's parity (FAIL or WARN), where the row still has one: its accepted ids and the
 * missing ones were counted. Null for any other row, or a parity that passes.
 */
function gradeUnderError(r: ParityRow, thresholds: { warnPct: number; failPct: number }): RowStatus | null {
  const accepted = r.accepted_distinct;
  const missing = r.missing;
  if (r.status !== 'ERROR' || typeof accepted !== 'number' || typeof missing !== 'number' || accepted === 0)
    return null;
  const grade = statusOf(accepted - missing, accepted, thresholds);
  return grade === 'PASS' ? null : grade;
}

/** The summary already names the lesser statuses that fail a run (`; also NO_DATA: …`): only WARN is left to add. */
const STATUS_ORDER: readonly RowStatus[] = ['WARN'];

/** Slack reads `<…>` as a link or a mention (`<!channel>`): text from objects and config is escaped as its API asks,
 * after oneLine (a bidi override in an object's name would show it as another name). */
function slackText(s: string): string {
  return oneLine(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Answers worth a second try, that say the alert was not taken: too many requests (429), unavailable (503). Not a
 * 500, 502 or 504: a gateway's timeout may come after the receiver posted it, and a second try would post it twice.
 */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 503]);
/** Connection failures in which nothing was delivered, so that a second try cannot post the alert twice. */
const RETRIED_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
export const WEBHOOK_ATTEMPTS = 3;
/** The longest wait a Retry-After header may ask for before the next try (Slack asks for seconds). */
const RETRY_AFTER_MAX_MS = 30_000;

/**
 * Posts the alert; the caller logs a failure and carries on. A busy or unavailable receiver (429, 503), or a
 * connection refused, is tried again (WEBHOOK_ATTEMPTS in all, after 1 s then 2 s, or what a Retry-After header
 * asks, up to 30 s); a timeout is not, since the alert may have arrived. A redirect is not followed (fetch would
 * turn the POST into a GET without the alert, or post it wherever the header points): it fails, naming the status.
 */
export async function postWebhook(
  url: string,
  body: { text: string },
  signal?: AbortSignal,
  pause: (ms: number, signal?: AbortSignal) => Promise<unknown> = (ms, signal) =>
    sleep(ms, undefined, signal ? { signal } : {}),
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const timeout = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      if (attempt >= WEBHOOK_ATTEMPTS || typeof code !== 'string' || !RETRIED_CODES.has(code))
        throw attempt > 1 ? Object.assign(e as Error, { attempts: attempt }) : e;
      await pause(1000 * 2 ** (attempt - 1), signal);
      continue;
    }
    await res.body?.cancel();
    if (res.ok) return;
    const tries = attempt > 1 ? ` (${attempt} attempts)` : '';
    if (res.status >= 300 && res.status < 400)
      throw webhookError(
        `webhook answered ${res.status}, a redirect, which is not followed: set the variable to the URL it leads to`,
      );
    if (attempt >= WEBHOOK_ATTEMPTS || !RETRIED_STATUSES.has(res.status))
      throw webhookError(`webhook answered ${res.status}${tries}`);
    const after = Number(res.headers.get('retry-after'));
    const wait =
      Number.isFinite(after) && after > 0 ? Math.min(after * 1000, RETRY_AFTER_MAX_MS) : 1000 * 2 ** (attempt - 1);
    await pause(wait, signal);
  }
}

function webhookError(message: string): Error {
  return Object.assign(new Error(message), { name: 'WebhookError' });
}

/**
 * What keeps the variable alerts.webhookUrlEnv names from being posted to, never quoting its value (the URL
 * carries a token): unset, no http(s) URL, or a URL with a user or password (fetch refuses it, with a
 * message that quotes it). null: it can be posted to. Pure.
 */
export function webhookProblem(name: string, env: Readonly<Record<string, string | undefined>>): string | null {
  const url = env[name];
  if (!url) return `${name} is not set`;
  if (!URL.canParse(url) || !/^https?:/i.test(url)) return `${name} does not hold an http(s) URL`;
  const u = new URL(url);
  if (u.username !== '' || u.password !== '')
    return (
      `${name} holds a URL with a user or password, which cannot be posted to ` +
      '(put the token in the path or a query parameter, as webhooks take it)'
    );
  return null;
}
