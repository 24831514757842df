import { ALL_SITES, type DaySummary, type RowStatus } from '../domain.js';
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
): { text: string } | null {
  const wanted = new Set<RowStatus>(on.includes('FAIL') ? [...on, 'NO_DATA'] : on);
  const hits = days
    .map((d) => ({ d, v: summarizeDay(d.rows, d.worstWindow ?? null) }))
    .filter(({ v }) => v.all.some((r) => wanted.has(r.status)));
  if (hits.length === 0) return null;
  const lines = hits.map(({ d, v }) => {
    const others = STATUS_ORDER.filter((s) => s !== v.status && wanted.has(s))
      .map((s) => ({ s, sites: v.all.filter((r) => r.status === s && r.site !== ALL_SITES).map((r) => r.site) }))
      .filter((o) => o.sites.length > 0)
      .map((o) => `; also ${o.s}: ${o.sites.join(', ')}`);
    const all = d.rows.find((r) => r.site === ALL_SITES);
    const parity = all?.parity_pct === null ? 'no parity' : `${String(all?.parity_pct)} %`;
    const missing = typeof all?.missing === 'number' ? `, ${all.missing} missing` : '';
    const totals = all ? ` (ALL ${parity}${missing})` : '';
    const window = v.window ? `; worst window: ${slackText(v.window)}` : '';
    return `• ${d.day}: ${slackText(v.text)}${others.join('')}${totals}${window}`;
  });
  return {
    text: `audit-parity: ${hits.length} day(s) need attention\n${lines.join('\n')}\nreports: ${slackText(location)}`,
  };
}

/** The summary already names the lesser statuses that fail a run (`; also NO_DATA: …`): only WARN is left to add. */
const STATUS_ORDER: readonly RowStatus[] = ['WARN'];

/** Slack reads `<…>` as a link or a mention (`<!channel>`): text from objects and config is escaped as its API asks. */
function slackText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Posts the alert; the caller logs a failure and carries on. */
export async function postWebhook(url: string, body: { text: string }, signal?: AbortSignal): Promise<void> {
  const timeout = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  if (!res.ok) throw Object.assign(new Error(`webhook answered ${res.status}`), { name: 'WebhookError' });
}
