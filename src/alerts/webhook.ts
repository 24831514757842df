import type { DaySummary } from '../../jobs/reconcile.js';
import type { RowStatus } from '../domain.js';

/** A webhook that does not answer within this long is given up on: an alert never holds up the job. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * The Slack-compatible message for the days whose ALL row has one of `on`'s statuses, or null
 * when none has. Pure.
 */
export function buildAlert(days: readonly Pick<DaySummary, 'day' | 'rows' | 'parityFile' | 'missingFile'>[], on: readonly RowStatus[], location: string): { text: string } | null {
  const hits = days.filter((d) => d.rows.some((r) => on.includes(r.status as RowStatus)));
  if (hits.length === 0) return null;
  const lines = hits.map((d) => {
    const bad = d.rows.filter((r) => on.includes(r.status as RowStatus));
    const sites = bad.map((r) => `${String(r.site)} ${String(r.status)}${r.parity_pct !== null ? ` ${String(r.parity_pct)}%` : ''}${r.missing ? `, ${String(r.missing)} missing` : ''}${r.error ? ` (${String(r.error)})` : ''}`);
    return `• ${d.day}: ${sites.join('; ')}`;
  });
  return { text: `audit-parity: ${hits.length} day(s) need attention\n${lines.join('\n')}\nreports: ${location}` };
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
