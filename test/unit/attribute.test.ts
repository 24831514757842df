import {
  attributeDay,
  type DayCounts,
  formatParity,
  identityViolations,
  statusOf,
} from '../../src/reconcile/attribute.js';
import type { IdFactGroup } from '../../src/domain.js';
import { factGroup } from '../support/builders.js';

const facts = (site: string, ids: number, f: Partial<IdFactGroup>): IdFactGroup =>
  factGroup('2025-03-09', site, ids, f);
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
  it('formats parity to four decimals, rounded down in exact arithmetic: any loss shows below 100', () => {
    expect(formatParity(0, 0)).toBeNull();
    expect(formatParity(5, 0)).toBeNull();
    expect(formatParity(2, 3)).toBe('66.6666');
    expect(formatParity(1, 8)).toBe('12.5000');
    expect(formatParity(1, 3)).toBe('33.3333');
    expect(formatParity(999_999, 1_000_000)).toBe('99.9999');
    expect(formatParity(9_999_999, 10_000_000)).toBe('99.9999');
    expect(formatParity(10_000_000, 10_000_000)).toBe('100.0000');
    expect(formatParity(0, 7)).toBe('0.0000');
  });

  it('grades by thresholds: FAIL below failPct, WARN below warnPct', () => {
    const t = { warnPct: 99.9, failPct: 99 };
    expect(statusOf(989, 1000, t)).toBe('FAIL');
    expect(statusOf(990, 1000, t)).toBe('WARN');
    expect(statusOf(999, 1000, t)).toBe('PASS');
    expect(statusOf(3, 0, t)).toBe('WARN');
  });

  it('grades the figure as the report states it, so the figure and the status never disagree', () => {
    const t = { warnPct: 99.9, failPct: 99 };
    // A review found 2,996 of 2,999 stated as 99.9000 (rounded up) with WARN, and 29,798 of 30,099 as 99.0000 with FAIL.
    for (const [held, accepted, status] of [
      [2_996, 2_999, 'WARN'],
      [999, 1_000, 'PASS'],
      [29_798, 30_099, 'FAIL'],
      [29_799, 30_099, 'WARN'],
      [9_999_999, 10_000_000, 'PASS'],
    ] as const) {
      const stated = Number(formatParity(held, accepted));
      const fromFigure = stated < t.failPct ? 'FAIL' : stated < t.warnPct ? 'WARN' : 'PASS';
      expect([statusOf(held, accepted, t), fromFigure]).toEqual([status, status]);
    }
    // A threshold finer than the figure: one lost id in ten million is stated 99.9999, below 99.99995.
    expect(statusOf(9_999_999, 10_000_000, { warnPct: 99.99995, failPct: 99 })).toBe('WARN');
    expect(statusOf(10_000_000, 10_000_000, { warnPct: 100, failPct: 99 })).toBe('PASS');
    expect(statusOf(9_999_999, 10_000_000, { warnPct: 100, failPct: 99 })).toBe('WARN');
  });

  it('splits a gap into its causes and keeps every identity', () => {
    const { rows, warnings } = attributeDay(day(), options);
    expect(warnings).toEqual([]);
    const us = rows[0]!;
    expect(us).toMatchObject({
      site: 'US',
      accepted_distinct: 1001,
      missing: 3,
      unknown_site: 2,
      missing_unexplained: 1,
      unexplained: -3,
      duplicates: 2,
      lost_413: 2,
      parity_pct: '99.7002',
      status: 'WARN',
    });
    expect(rows.map((r) => r.site)).toEqual(['US', 'CA', 'ALL']);
    expect(rows[1]).toMatchObject({
      site: 'CA',
      proxy_requests: 0,
      parity_pct: null,
      status: 'NO_DATA',
      status_reason: 'no proxy records',
    });
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

  it("a Kafka cluster that could not be read empties its own column and Kafka's totals, never the other cluster's", () => {
    const base = usDay({ held: 10, lost: 0, kafka: 10 });
    const input: DayCounts = {
      ...base,
      kafka: { ...base.kafka!, failed: ['SCUS'] },
      failures: { kafka: 'kafka: cluster SCUS: read failed (unfinished: partition 0 at offset 3 of [0, 9))' },
    };
    const tiers = { gcs: true, kafka: ['EUS2', 'SCUS'] };
    const [us, all] = attributeDay(input, { ...usOnly, tiers }).rows;
    for (const r of [us!, all!]) {
      // In a region's outage the surviving cluster's count is the one wanted: EUS2 was read whole.
      expect(r.regions).toEqual({ EUS2: 10, SCUS: null });
      expect([r.kafka_records, r.lost_before_kafka, r.status]).toEqual([null, null, 'ERROR']);
    }
    expect(all!.kafka_offset_records).toBeNull();
  });

  it('an identity check catches a row that does not add up', () => {
    const { rows } = attributeDay(day(), options);
    expect(identityViolations({ ...rows[0]!, rejected_other: 5 })).toEqual([
      'proxy_requests = proxy_accepted + rejected_413 + rejected_502 + rejected_other',
    ]);
    // The old definition (final distinct ÷ accepted) is caught as well: here it would read 100.0000 over 3 missing ids.
    expect(identityViolations({ ...rows[0]!, parity_pct: '100.0000' })).toEqual([
      'parity_pct = 100 × (accepted_distinct − missing) ÷ accepted_distinct',
    ]);
  });
});

/** One day of US alone: `held` accepted ids landed, `lost` accepted ids did not, `surplus` landed unaccepted. */
const usDay = ({
  held,
  lost,
  surplus = 0,
  landed = held + surplus,
  kafka,
}: {
  held: number;
  lost: number;
  surplus?: number;
  landed?: number;
  kafka?: number;
}): DayCounts => ({
  day: '2025-03-09',
  proxy:
    held + lost > 0
      ? new Map([['US', { lines: held + lost, accepted: held + lost, rejected413: 0, rejected502: 0 }]])
      : new Map(),
  proxyIssues: new Map(),
  gcs: landed > 0 ? new Map([['US', { records: landed, distinct: landed, late: 0 }]]) : new Map(),
  gcsIssues: new Map(),
  kafka:
    kafka === undefined
      ? null
      : {
          messages: new Map([['US', new Map([['EUS2', kafka]])]]),
          malformed: new Map(),
          offsetTotals: new Map(),
          expired: [],
          failed: [],
        },
  bigquery: null,
  groups: [
    facts('US', held, {
      inProxy: true,
      accepted: true,
      inGcs: landed > 0,
      inFinal: landed > 0,
      kafkaKnown: kafka !== undefined,
      inKafka: (kafka ?? 0) > 0,
    }),
    facts('US', lost, { inProxy: true, accepted: true, kafkaKnown: kafka !== undefined, inKafka: (kafka ?? 0) > 0 }),
    facts('US', surplus, { inGcs: true, inFinal: true, kafkaKnown: kafka !== undefined, inKafka: (kafka ?? 0) > 0 }),
  ].filter((g) => g.ids > 0),
  failures: {},
});
const usOnly = { ...options, sites: ['US'] };

describe('parity from the loss side', () => {
  it('a lost id lowers parity below 100 even when more ids landed unaccepted than were lost', () => {
    const [us, all] = attributeDay(usDay({ held: 997, lost: 3, surplus: 5 }), {
      ...usOnly,
      thresholds: { warnPct: 99.9, failPct: 99, landedNotAcceptedPct: 1 },
    }).rows;
    expect(us).toMatchObject({
      accepted_distinct: 1000,
      missing: 3,
      landed_not_accepted: 5,
      unexplained: 2,
      parity_pct: '99.7000',
      status: 'WARN',
      status_reason: 'parity 99.7000 < warnPct 99.9',
    });
    expect(all).toMatchObject({ parity_pct: '99.7000', status: 'WARN' });
  });

  it('grades a loss under a surplus FAIL when it is below failPct', () => {
    const [us] = attributeDay(usDay({ held: 980, lost: 20, surplus: 30 }), usOnly).rows;
    expect(us).toMatchObject({ unexplained: 10, parity_pct: '98.0000', status: 'FAIL' });
    expect(us!.status_reason).toBe('parity 98.0000 < failPct 99; landed_not_accepted 30 > 0.5% of 1000 accepted');
  });

  it('ids that landed unaccepted never raise parity, and above landedNotAcceptedPct they WARN on their own', () => {
    const [under] = attributeDay(usDay({ held: 1000, lost: 0, surplus: 5 }), usOnly).rows;
    expect(under).toMatchObject({ parity_pct: '100.0000', status: 'PASS', status_reason: '' });
    const [over] = attributeDay(usDay({ held: 1000, lost: 0, surplus: 6 }), usOnly).rows;
    expect(over).toMatchObject({
      parity_pct: '100.0000',
      status: 'WARN',
      status_reason: 'landed_not_accepted 6 > 0.5% of 1000 accepted',
    });
  });

  it('leaves parity empty when nothing was accepted, and a site with landed ids only WARNs', () => {
    const [us] = attributeDay(usDay({ held: 0, lost: 0, surplus: 4 }), { ...options, sites: ['US'] }).rows;
    // A configured site whose proxy holds nothing is NO_DATA before anything else.
    expect(us).toMatchObject({
      parity_pct: null,
      status: 'NO_DATA',
      status_reason: 'no proxy records; 4 ids landed with none accepted',
    });
    const unknown = { ...usDay({ held: 0, lost: 0, surplus: 4 }) };
    unknown.gcs = new Map([['UNKNOWN', { records: 4, distinct: 4, late: 0 }]]);
    unknown.groups = [facts('UNKNOWN', 4, { inGcs: true, inFinal: true })];
    unknown.proxy = new Map([['US', { lines: 10, accepted: 10, rejected413: 0, rejected502: 0 }]]);
    unknown.groups.push(facts('US', 10, { inProxy: true, accepted: true, inGcs: true, inFinal: true }));
    unknown.gcs.set('US', { records: 10, distinct: 10, late: 0 });
    const rows = attributeDay(unknown, usOnly).rows;
    expect(rows.map((r) => [r.site, r.parity_pct, r.status])).toEqual([
      ['US', '100.0000', 'PASS'],
      ['UNKNOWN', null, 'WARN'],
      ['ALL', '100.0000', 'WARN'],
    ]);
  });
});

describe('no data is not a pass', () => {
  it('a configured site whose proxy holds no records is NO_DATA, and so is the ALL row of an empty day', () => {
    const rows = attributeDay(usDay({ held: 0, lost: 0 }), options).rows;
    expect(rows.map((r) => [r.site, r.proxy_requests, r.parity_pct, r.status, r.status_reason])).toEqual([
      ['US', 0, null, 'NO_DATA', 'no proxy records'],
      ['CA', 0, null, 'NO_DATA', 'no proxy records'],
      ['ALL', 0, null, 'NO_DATA', 'no proxy records'],
    ]);
  });

  it('a configured tier that holds nothing while the proxy accepted ids is NO_DATA, naming the tier', () => {
    const [gcs] = attributeDay(usDay({ held: 0, lost: 12, landed: 0 }), usOnly).rows;
    expect(gcs).toMatchObject({ gcs_records: 0, missing: 12, parity_pct: '0.0000', status: 'NO_DATA' });
    expect(gcs!.status_reason).toBe('gcs holds nothing while the proxy accepted 12; parity 0.0000 < failPct 99');
    const [kafka] = attributeDay(usDay({ held: 10, lost: 0, kafka: 0 }), {
      ...usOnly,
      tiers: { gcs: true, kafka: ['EUS2'] },
    }).rows;
    expect(kafka).toMatchObject({
      kafka_records: 0,
      parity_pct: '100.0000',
      status: 'NO_DATA',
      status_reason: 'kafka holds nothing while the proxy accepted 10',
    });
    // Messages, but none with a usable request id (a requestId that names the wrong header): nothing either.
    const unusable = usDay({ held: 10, lost: 0, kafka: 10 });
    unusable.kafka!.malformed.set('US', 10);
    const [malformed] = attributeDay(unusable, { ...usOnly, tiers: { gcs: true, kafka: ['EUS2'] } }).rows;
    expect(malformed).toMatchObject({
      kafka_records: 10,
      kafka_malformed: 10,
      status: 'NO_DATA',
      status_reason: "kafka holds nothing while the proxy accepted 10 (kafka's 10 messages have no usable request id)",
    });
  });

  it('proxy lines none of which were accepted, with nothing landed: NO_DATA for a site (the contract), WARN for UNKNOWN', () => {
    const input = usDay({ held: 0, lost: 0 });
    input.proxy = new Map([
      ['US', { lines: 7, accepted: 0, rejected413: 7, rejected502: 0 }],
      ['UNKNOWN', { lines: 2, accepted: 0, rejected413: 0, rejected502: 2 }],
    ]);
    input.groups = [
      facts('US', 7, { inProxy: true, rejected: true, lastReject: '413' }),
      facts('UNKNOWN', 2, { inProxy: true, rejected: true, lastReject: '502' }),
    ];
    const [us, unknown] = attributeDay(input, usOnly).rows;
    expect(us).toMatchObject({
      parity_pct: null,
      status: 'NO_DATA',
      status_reason: 'gcs holds nothing while the proxy holds 7 lines, none accepted',
    });
    expect(unknown).toMatchObject({ site: 'UNKNOWN', status: 'WARN', status_reason: '2 proxy lines, none accepted' });
  });

  it("the UNKNOWN row holding Kafka's messages only is WARN, never PASS (one side only)", () => {
    const input = usDay({ held: 10, lost: 0, landed: 10, kafka: 10 });
    input.kafka!.messages.set('UNKNOWN', new Map([['EUS2', 2]]));
    input.groups.push(facts('UNKNOWN', 2, { kafkaKnown: true, inKafka: true, unroutable: true }));
    const [us, unknown] = attributeDay(input, { ...usOnly, tiers: { gcs: true, kafka: ['EUS2'] } }).rows;
    expect(us).toMatchObject({ status: 'PASS' });
    expect(unknown).toMatchObject({
      site: 'UNKNOWN',
      proxy_requests: 0,
      kafka_records: 2,
      status: 'WARN',
      status_reason: '2 kafka messages, no proxy line',
    });
    // A second cluster past its retention empties kafka_records: the first one's messages still speak.
    const expired = usDay({ held: 10, lost: 0, landed: 10, kafka: 10 });
    expired.kafka!.messages.set('UNKNOWN', new Map([['EUS2', 2]]));
    expired.kafka!.expired = ['SCUS'];
    expired.groups.push(facts('UNKNOWN', 2, { kafkaKnown: true, inKafka: true, unroutable: true }));
    const [, unknownExpired] = attributeDay(expired, { ...usOnly, tiers: { gcs: true, kafka: ['EUS2', 'SCUS'] } }).rows;
    expect(unknownExpired).toMatchObject({
      kafka_records: null,
      status: 'WARN',
      status_reason: '2 kafka messages, no proxy line',
    });
  });

  it('the UNKNOWN row holding only malformed lines is WARN, never PASS', () => {
    const input = usDay({ held: 10, lost: 0, landed: 10 });
    input.gcsIssues.set('UNKNOWN', { malformed: 2, outOfWindow: 0 });
    const unknown = attributeDay(input, usOnly).rows.find((r) => r.site === 'UNKNOWN');
    expect(unknown).toMatchObject({ gcs_malformed: 2, status: 'WARN', status_reason: '2 malformed lines, no record' });
  });

  it('the UNKNOWN row with proxy records and nothing landed FAILs at parity 0, with its cause', () => {
    const input = usDay({ held: 10, lost: 0 });
    input.proxy.set('UNKNOWN', { lines: 5, accepted: 5, rejected413: 0, rejected502: 0 });
    input.groups.push(facts('UNKNOWN', 5, { inProxy: true, accepted: true, unroutable: true }));
    const unknown = attributeDay(input, usOnly).rows[1]!;
    expect(unknown).toMatchObject({ site: 'UNKNOWN', unknown_site: 5, parity_pct: '0.0000', status: 'FAIL' });
  });

  it('an ERROR still wins over NO_DATA', () => {
    const [us] = attributeDay(
      { ...usDay({ held: 0, lost: 0 }), failures: { kafka: 'kafka: broker unreachable' } },
      usOnly,
    ).rows;
    expect(us).toMatchObject({ status: 'ERROR' });
    expect(us!.status_reason).toBe('ERROR kafka: broker unreachable; no proxy records');
  });
});

describe('the volume guard in attribution', () => {
  const steady = ['2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07', '2025-03-08'].map(
    (d) => ({ day: d, counts: { proxy_requests: 1000, gcs_records: 1000 } }),
  );

  it('a count below half its median WARNs a row that would pass, naming the tier, the count and the median', () => {
    const [us, all] = attributeDay(usDay({ held: 480, lost: 0 }), {
      ...usOnly,
      volumeHistory: new Map([['US', steady]]),
    }).rows;
    expect(us).toMatchObject({
      parity_pct: '100.0000',
      status: 'WARN',
      volume_drop: 'proxy_requests 480 < 50% of median 1000; gcs_records 480 < 50% of median 1000',
    });
    expect(us!.status_reason).toBe(
      'volume_drop: proxy_requests 480 < 50% of median 1000; gcs_records 480 < 50% of median 1000',
    );
    expect(all).toMatchObject({ volume_drop: null, status: 'PASS' });
  });

  it('keeps a FAIL a FAIL and adds the drop to its reason', () => {
    const [us] = attributeDay(usDay({ held: 450, lost: 30 }), {
      ...usOnly,
      volumeHistory: new Map([['US', steady]]),
    }).rows;
    expect(us).toMatchObject({
      status: 'FAIL',
      volume_drop: 'proxy_requests 480 < 50% of median 1000; gcs_records 450 < 50% of median 1000',
    });
    expect(us!.status_reason).toBe(
      'parity 93.7500 < failPct 99; volume_drop: proxy_requests 480 < 50% of median 1000; gcs_records 450 < 50% of median 1000',
    );
  });

  it('leaves UNKNOWN alone: fewer requests without a known site is clients fixed, not events lost', () => {
    const day = usDay({ held: 1000, lost: 0 });
    day.proxy.set('UNKNOWN', { lines: 10, accepted: 10, rejected413: 0, rejected502: 0 });
    day.gcs!.set('UNKNOWN', { records: 10, distinct: 10, late: 0 });
    day.groups.push(facts('UNKNOWN', 10, { inProxy: true, accepted: true, inGcs: true, inFinal: true }));
    const rows = attributeDay(day, {
      ...usOnly,
      volumeHistory: new Map([
        ['US', steady],
        ['UNKNOWN', steady],
      ]),
    }).rows;
    // Before 0.3.7 UNKNOWN WARNed "volume drop" (10 < 50 % of 1000), and made the day's worst status.
    expect(rows.map((r) => [r.site, r.status, r.volume_drop])).toEqual([
      ['US', 'PASS', null],
      ['UNKNOWN', 'PASS', null],
      ['ALL', 'PASS', null],
    ]);
  });

  it('is off at volumeDropPct 0', () => {
    const [us] = attributeDay(usDay({ held: 480, lost: 0 }), {
      ...usOnly,
      thresholds: { ...options.thresholds, volumeDropPct: 0 },
      volumeHistory: new Map([['US', steady]]),
    }).rows;
    expect(us).toMatchObject({ status: 'PASS', volume_drop: null });
  });
});

describe('status reasons', () => {
  it('a configured site whose proxy lines are all malformed is NO_DATA and says how many there were', () => {
    const input = usDay({ held: 0, lost: 0 });
    input.proxyIssues = new Map([['US', { malformed: 4, outOfWindow: 0 }]]);
    const [us] = attributeDay(input, usOnly).rows;
    expect(us).toMatchObject({
      proxy_requests: 0,
      proxy_malformed: 4,
      status: 'NO_DATA',
      status_reason: 'no proxy records (4 malformed lines)',
    });
  });
});
