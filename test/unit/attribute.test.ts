import { attributeDay, type DayCounts, formatParity, identityViolations, statusOf } from '../../src/reconcile/attribute.js';
import type { IdFactGroup } from '../../src/domain.js';

const facts = (site: string, ids: number, f: Partial<IdFactGroup>): IdFactGroup => ({
  day: '2025-03-09', site, ids, inProxy: false, accepted: false, rejected: false, lastReject: null, unroutable: false,
  kafkaKnown: false, inKafka: false, crossRegion: false, inFlight: false, inGcs: false, inBigquery: false, inFinal: false, ...f,
});
const options = { sites: ['US', 'CA'], thresholds: { warnPct: 99.9, failPct: 99 }, tiers: { gcs: true, kafka: null } };
const day = (over: Partial<DayCounts> = {}): DayCounts => ({
  day: '2025-03-09',
  proxy: new Map([['US', { lines: 1003, accepted: 1001, rejected413: 2, rejected502: 0 }]]),
  proxyIssues: new Map(),
  gcs: new Map([['US', { records: 1000, distinct: 998, late: 3 }]]),
  gcsIssues: new Map(),
  kafka: null,
  bigquery: null,
  groups: [
    facts('US', 998, { inProxy: true, accepted: true, inGcs: true, inFinal: true }),
    facts('US', 2, { inProxy: true, accepted: true, unroutable: true }),
    facts('US', 1, { inProxy: true, accepted: true }),
    facts('US', 2, { inProxy: true, lastReject: '413', rejected: true }),
  ],
  failures: {},
  ...over,
});

describe('attribution', () => {
  it('formats parity to four decimals, rounding half up in exact arithmetic', () => {
    expect(formatParity(0, 0)).toBe('100.0000');
    expect(formatParity(5, 0)).toBeNull();
    expect(formatParity(2, 3)).toBe('66.6667');
    expect(formatParity(1, 8)).toBe('12.5000');
    expect(formatParity(1, 3)).toBe('33.3333');
    expect(formatParity(999_999, 1_000_000)).toBe('99.9999');
    expect(formatParity(101, 100)).toBe('101.0000');
  });

  it('grades by thresholds: FAIL below failPct, WARN below warnPct', () => {
    const t = { warnPct: 99.9, failPct: 99 };
    expect(statusOf(989, 1000, t)).toBe('FAIL');
    expect(statusOf(990, 1000, t)).toBe('WARN');
    expect(statusOf(999, 1000, t)).toBe('PASS');
    expect(statusOf(3, 0, t)).toBe('WARN');
  });

  it('splits a gap into its causes and keeps every identity', () => {
    const { rows, warnings } = attributeDay(day(), options);
    expect(warnings).toEqual([]);
    const us = rows[0]!;
    expect(us).toMatchObject({ site: 'US', accepted_distinct: 1001, missing: 3, unknown_site: 2, missing_unexplained: 1, unexplained: -3, duplicates: 2, lost_413: 2, parity_pct: '99.7003', status: 'WARN' });
    expect(rows.map((r) => r.site)).toEqual(['US', 'CA', 'ALL']);
    for (const r of rows) expect(identityViolations(r)).toEqual([]);
  });

  it('leaves an unreadable tier empty, never zero, and marks the rows ERROR', () => {
    const { rows } = attributeDay(day({ gcs: null, failures: { gcs: 'gcs: gs://b/x.gz: not valid gzip' } }), options);
    for (const r of rows) {
      expect(r.status).toBe('ERROR');
      expect(r.gcs_records).toBeNull();
      expect(r.missing).toBeNull();
      expect(r.error).toContain('gs://b/x.gz');
    }
    expect(rows[0]!.proxy_requests).toBe(1003);
  });

  it('an identity check catches a row that does not add up', () => {
    const { rows } = attributeDay(day(), options);
    expect(identityViolations({ ...rows[0]!, rejected_other: 5 })).toEqual(['proxy_requests = proxy_accepted + rejected_413 + rejected_502 + rejected_other']);
  });
});
