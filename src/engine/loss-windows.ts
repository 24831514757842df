import type { DayKey, LossWindow } from '../domain.js';
import { type LossCause, LOSS_CAUSES, lossCause } from '../reconcile/rules.js';
import { MISSING_FACTS } from './fact-sql.js';

/** A quarter hour in milliseconds: the loss windows' width. */
export const WINDOW_MS = 15 * 60 * 1000;

/** What an engine that counts loss windows offers (an optional member of CountingEngine). */
export interface WindowCounting {
  /** One day's 15-minute buckets that lost anything, sites in `sites` order (then others), then by time. */
  lossWindows(day: DayKey, sites: readonly string[]): Promise<LossWindow[]>;
}

/**
 * Folds the engine's groups of accepted ids (site, bucket, the facts of landing and of the loss
 * causes, count: window-groups.sql) into the buckets that lost anything. The cause of each group
 * comes from the rules' one definition; the leading cause is the most frequent, ties in the rules'
 * order. Pure.
 */
export function foldWindows(rows: readonly Record<string, unknown>[], sites: readonly string[]): LossWindow[] {
  const byKey = new Map<
    string,
    { site: string; startMs: number; accepted: number; landed: number; causes: number[] }
  >();
  for (const r of rows) {
    const site = String(r.site);
    const startMs = Number(r.bucket) * WINDOW_MS;
    const key = `${startMs}\u0000${site}`;
    const w = byKey.get(key) ?? { site, startMs, accepted: 0, landed: 0, causes: LOSS_CAUSES.map(() => 0) };
    byKey.set(key, w);
    const ids = Number(r.ids);
    w.accepted += ids;
    if (r.in_final) {
      w.landed += ids;
      continue;
    }
    const cause = lossCause({
      inProxy: true,
      accepted: true,
      rejected: false,
      lastReject: null,
      unroutable: Boolean(r.unroutable),
      kafkaKnown: Boolean(r.kafka_known),
      inKafka: Boolean(r.in_kafka),
      crossRegion: false,
      inFlight: Boolean(r.in_flight),
      inGcs: Boolean(r.in_gcs),
      inBigquery: false,
      inFinal: false,
      ...MISSING_FACTS,
    });
    w.causes[LOSS_CAUSES.findIndex((c) => c.cause === cause)]! += ids;
  }
  const order = (site: string) => (sites.includes(site) ? sites.indexOf(site) : sites.length);
  return [...byKey.values()]
    .filter((w) => w.accepted > w.landed)
    .sort((a, b) => order(a.site) - order(b.site) || a.site.localeCompare(b.site) || a.startMs - b.startMs)
    .map((w) => ({
      site: w.site,
      startMs: w.startMs,
      accepted: w.accepted,
      landed: w.landed,
      missing: w.accepted - w.landed,
      leadingCause: leading(w.causes),
    }));
}

function leading(counts: readonly number[]): LossCause {
  let best = 0;
  counts.forEach((n, i) => {
    if (n > counts[best]!) best = i;
  });
  return LOSS_CAUSES[best]!.cause;
}
