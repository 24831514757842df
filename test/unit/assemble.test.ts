import type { DayKey, IdFactGroup, Site, StreamedCountRow } from '../../src/domain.js';
import {
  assembleDay,
  type AssembleScope,
  type BatchReads,
  type BatchRows,
  type KafkaDayOutcome,
} from '../../src/reconcile/assemble.js';
import { factGroup } from '../support/builders.js';

const MON = '2025-03-10';
const TUE = '2025-03-11';

const proxy = (day: DayKey, site: Site, accepted: number) => ({
  day,
  site,
  counts: { lines: accepted + 1, accepted, rejected413: 1, rejected502: 0 },
});
const landed = (day: DayKey, site: Site, records: number) => ({
  day,
  site,
  counts: { records, distinct: records, late: 0 },
});
const issues = (day: DayKey, site: Site, malformed: number) => ({ day, site, counts: { malformed, outOfWindow: 0 } });
const streamed = (day: DayKey, site: Site, over: Partial<StreamedCountRow> = {}): StreamedCountRow => ({
  day,
  site,
  region: '',
  kind: 'record',
  n: 1,
  distinct: 1,
  ...over,
});
const group = (day: DayKey, site: Site, ids: number): IdFactGroup =>
  factGroup(day, site, ids, { inProxy: true, accepted: true, inGcs: true, inFinal: true });
const rows = (over: Partial<BatchRows> = {}): BatchRows => ({
  proxy: [],
  proxyIssues: [],
  gcs: [],
  gcsIssues: [],
  kafka: [],
  bigquery: [],
  groups: [],
  ...over,
});
const kafkaRead = (over: Partial<KafkaDayOutcome> = {}): KafkaDayOutcome => ({
  offsetTotals: new Map([['eus2', 7]]),
  expired: [],
  failures: new Map(),
  ...over,
});
const reads = (over: Partial<BatchReads> = {}): BatchReads => ({ failures: new Map(), kafka: new Map(), ...over });
const scope = (over: Partial<AssembleScope> = {}): AssembleScope => ({
  reportSites: ['US', 'CA'],
  configuredSites: ['US', 'CA'],
  gcs: true,
  bigquery: false,
  ...over,
});

describe('assembling a day from the engine rows of its batch', () => {
  it("keeps only the day's own rows of a batch of several days", () => {
    const batch = rows({
      proxy: [proxy(MON, 'US', 10), proxy(TUE, 'US', 20)],
      gcs: [landed(MON, 'US', 9), landed(TUE, 'US', 19)],
      groups: [group(MON, 'US', 9), group(TUE, 'US', 19)],
    });
    const day = assembleDay(TUE, batch, reads(), scope());
    expect(day.day).toBe(TUE);
    expect(day.proxy.get('US')?.accepted).toBe(20);
    expect(day.gcs?.get('US')?.records).toBe(19);
    expect(day.groups.map((g) => g.ids)).toEqual([19]);
  });

  it('leaves out a configured site that --sites did not choose, but keeps UNKNOWN', () => {
    const batch = rows({
      proxy: [proxy(MON, 'US', 10), proxy(MON, 'CA', 5), proxy(MON, 'UNKNOWN', 2)],
      proxyIssues: [issues(MON, 'CA', 1), issues(MON, 'UNKNOWN', 3)],
      groups: [group(MON, 'US', 10), group(MON, 'CA', 5), group(MON, 'UNKNOWN', 2)],
    });
    const day = assembleDay(MON, batch, reads(), scope({ reportSites: ['US'] }));
    expect([...day.proxy.keys()]).toEqual(['US', 'UNKNOWN']);
    expect([...day.proxyIssues.keys()]).toEqual(['UNKNOWN']);
    expect(day.groups.map((g) => g.site)).toEqual(['US', 'UNKNOWN']);
  });

  it('gives null, not empty counts, for a tier that is not configured', () => {
    const day = assembleDay(MON, rows({ gcs: [landed(MON, 'US', 9)] }), reads(), scope({ gcs: false }));
    expect(day.gcs).toBeNull();
    expect(day.bigquery).toBeNull();
    expect(day.kafka).toBeNull();
  });

  it('gives empty counts for a configured tier that holds nothing that day', () => {
    const day = assembleDay(MON, rows(), reads({ kafka: new Map([[MON, kafkaRead()]]) }), scope({ bigquery: true }));
    expect(day.gcs).toEqual(new Map());
    expect(day.bigquery).toEqual(new Map());
    expect(day.kafka?.messages).toEqual(new Map());
  });

  it("sums Kafka's messages per site and cluster, malformed included, with the day's offsets and expiry", () => {
    const batch = rows({
      kafka: [
        streamed(MON, 'US', { region: 'eus2', n: 4 }),
        streamed(MON, 'US', { region: 'eus2', kind: 'malformed', n: 1 }),
        streamed(MON, 'US', { region: 'wus2', n: 2 }),
        streamed(TUE, 'US', { region: 'eus2', n: 50 }),
      ],
    });
    const read = kafkaRead({ expired: ['wus2'] });
    const day = assembleDay(MON, batch, reads({ kafka: new Map([[MON, read]]) }), scope());
    expect(day.kafka?.messages.get('US')).toEqual(
      new Map([
        ['eus2', 5],
        ['wus2', 2],
      ]),
    );
    expect(day.kafka?.malformed.get('US')).toBe(1);
    expect(day.kafka?.offsetTotals).toBe(read.offsetTotals);
    expect(day.kafka?.expired).toEqual(['wus2']);
  });

  it('has no Kafka counts for a day Kafka was not read for', () => {
    const batch = rows({ kafka: [streamed(TUE, 'US', { region: 'eus2' })] });
    const day = assembleDay(TUE, batch, reads({ kafka: new Map([[MON, kafkaRead()]]) }), scope());
    expect(day.kafka).toBeNull();
  });

  it("counts BigQuery's rows with a request id as records and distinct ids, and those without as malformed", () => {
    const batch = rows({
      bigquery: [
        streamed(MON, 'US', { n: 6, distinct: 5 }),
        streamed(MON, 'US', { n: 3, distinct: 3 }),
        streamed(MON, 'US', { kind: 'malformed', n: 2, distinct: 0 }),
      ],
    });
    const day = assembleDay(MON, batch, reads(), scope({ bigquery: true }));
    expect(day.bigquery?.get('US')).toEqual({ records: 9, distinct: 8, malformed: 2 });
  });

  it("names the tiers that failed for the day, in the order they failed, with Kafka's clusters last and joined", () => {
    const failures = new Map([
      ['gcs' as const, new Map([[MON, 'gcs: gs://b/x.json unreadable']])],
      ['proxy' as const, new Map([[TUE, 'proxy: p.log unreadable']])],
    ]);
    const kafka = new Map([
      [
        MON,
        kafkaRead({
          failures: new Map([
            ['eus2', 'kafka eus2: unreachable'],
            ['wus2', 'kafka wus2: unreachable'],
          ]),
        }),
      ],
    ]);
    const day = assembleDay(MON, rows(), reads({ failures, kafka }), scope());
    expect(day.failures).toEqual({
      gcs: 'gcs: gs://b/x.json unreadable',
      kafka: 'kafka eus2: unreachable; kafka wus2: unreachable',
    });
    expect(Object.keys(day.failures)).toEqual(['gcs', 'kafka']);
  });
});
