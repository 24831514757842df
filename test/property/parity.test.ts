import type { IdFactGroup } from '../../src/domain.js';
import { prng } from '../../src/demo/generator.js';
import { attributeDay, type DayCounts } from '../../src/reconcile/attribute.js';
import { factGroup } from '../support/builders.js';

/**
 * Parity only falls when ids are lost: for random days of id facts, adding ids that landed without
 * being accepted (any kind) leaves every row's parity as it was, and adding a lost id never raises it.
 */
const SITES = ['US', 'CA'];
const KINDS: Partial<IdFactGroup>[] = [
  { inProxy: true, accepted: true, inGcs: true, inFinal: true }, // landed
  { inProxy: true, accepted: true }, // lost, no cause
  { inProxy: true, accepted: true, unroutable: true }, // lost: unknown site
  { inProxy: true, accepted: true, rejected: true, inGcs: true, inFinal: true }, // retry recovered
  { inProxy: true, rejected: true, lastReject: '413' }, // rejected, never landed
  { inProxy: true, rejected: true, lastReject: '502', inGcs: true, inFinal: true }, // landed after reject
  { inGcs: true, inFinal: true }, // landed without proxy
];
const SURPLUS = [5, 6];
const LOST = [1, 2];

const group = (site: string, ids: number, kind: Partial<IdFactGroup>): IdFactGroup =>
  factGroup('2025-03-09', site, ids, kind);

/** The tier counts that agree with the groups (one line and one landed record per id). */
function dayOf(groups: IdFactGroup[]): DayCounts {
  const proxy = new Map<string, { lines: number; accepted: number; rejected413: number; rejected502: number }>();
  const gcs = new Map<string, { records: number; distinct: number; late: number }>();
  for (const g of groups) {
    if (g.inProxy) {
      const p = proxy.get(g.site) ?? { lines: 0, accepted: 0, rejected413: 0, rejected502: 0 };
      p.lines += g.ids;
      if (g.accepted) p.accepted += g.ids;
      else if (g.lastReject === '413') p.rejected413 += g.ids;
      else if (g.lastReject === '502') p.rejected502 += g.ids;
      proxy.set(g.site, p);
    }
    if (g.inFinal) {
      const l = gcs.get(g.site) ?? { records: 0, distinct: 0, late: 0 };
      l.records += g.ids;
      l.distinct += g.ids;
      gcs.set(g.site, l);
    }
  }
  return {
    day: '2025-03-09',
    proxy,
    proxyIssues: new Map(),
    gcs,
    gcsIssues: new Map(),
    kafka: null,
    bigquery: null,
    groups,
    failures: {},
  };
}

const options = { sites: SITES, thresholds: { warnPct: 99.9, failPct: 99 }, tiers: { gcs: true, kafka: null } };
const parities = (groups: IdFactGroup[]) =>
  attributeDay(dayOf(groups), options).rows.map(
    (r) => [r.site, r.parity_pct === null ? null : Number(r.parity_pct)] as const,
  );

describe('parity only ever falls when ids are lost', () => {
  it.each(Array.from({ length: 200 }, (_, i) => 7000 + i))('random day, seed %i', (seed) => {
    const rand = prng(seed);
    const base = SITES.flatMap((site) =>
      KINDS.map((kind) => group(site, Math.floor(rand() * 40) * (rand() < 0.3 ? 0 : 1), kind)),
    ).filter((g) => g.ids > 0);
    const before = parities(base);
    const site = SITES[Math.floor(rand() * SITES.length)]!;

    const surplus = [...base, ...SURPLUS.map((k) => group(site, 1 + Math.floor(rand() * 50), KINDS[k]!))];
    const withSurplus = parities(surplus);
    for (const [i, [s, p]] of withSurplus.entries()) {
      // A site whose parity was empty (nothing accepted) stays empty: landed ids alone state no ratio.
      expect([s, p]).toEqual(before[i]);
    }

    const lost = [...base, group(site, 1 + Math.floor(rand() * 5), KINDS[LOST[Math.floor(rand() * LOST.length)]!]!)];
    const withLoss = parities(lost);
    for (const [i, [s, p]] of withLoss.entries()) {
      const was = before[i]![1];
      if (s !== site && s !== 'ALL') {
        expect([s, p]).toEqual(before[i]);
        continue;
      }
      // The site that lost ids, and ALL, now stand below 100, and no higher than before.
      expect(p).not.toBeNull();
      expect(p!).toBeLessThan(100);
      if (was !== null) expect(p!).toBeLessThanOrEqual(was);
    }
    expect(withLoss.map(([s]) => s)).toEqual(before.map(([s]) => s));
  });
});
