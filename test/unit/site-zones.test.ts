import { folderDaysFor, kafkaOutcomes } from '../../jobs/read-tiers.js';
import { dayBuckets, dayWindow } from '../../src/dates.js';
import { dayLookupOf } from '../../src/engine/day-lookup.js';
import { daySpan, kafkaReadsOf, type SiteZoning, todayOf, zoneOfSite } from '../../src/site-zones.js';

const ZONING = { timezone: 'America/Chicago', siteZones: { MX: 'America/Mexico_City', JP: 'Asia/Tokyo' } };
const iso = (ms: number) => new Date(ms).toISOString();

describe("each site's zone", () => {
  test('a site without a zone of its own, UNKNOWN and a site no one configured use the configured zone', () => {
    expect(['MX', 'JP', 'US', 'UNKNOWN', 'BR'].map((s) => zoneOfSite(ZONING, s))).toEqual([
      'America/Mexico_City',
      'Asia/Tokyo',
      'America/Chicago',
      'America/Chicago',
      'America/Chicago',
    ]);
    // A key inherited from Object.prototype is no site.
    expect(zoneOfSite(ZONING, 'constructor')).toBe('America/Chicago');
  });

  test("a day's span runs from the earliest midnight of any site's zone to the latest", () => {
    const span = daySpan('2025-07-15', ZONING);
    expect([iso(span.startMs), iso(span.endMs)]).toEqual(['2025-07-14T15:00:00.000Z', '2025-07-16T06:00:00.000Z']);
  });

  test("Kafka's reads give a day the same own share whatever days its batch holds; the last day's rest is read apart", () => {
    const days = ['2025-07-14', '2025-07-15', '2025-07-16'];
    const all = kafkaReadsOf(days, ZONING);
    for (const day of days) {
      const alone = kafkaReadsOf([day], ZONING);
      expect(alone.filter((r) => r.own)).toEqual(all.filter((r) => r.own && r.day === day));
      // Alone, it is also read to its latest end, in a second read that is not its own share.
      const [own, tail] = alone;
      expect([tail!.own, tail!.startMs, tail!.endMs]).toEqual([false, own!.endMs, daySpan(day, ZONING).endMs]);
    }
    // Touching reads, every instant of every site's days once.
    for (let i = 1; i < all.length; i++) expect(all[i]!.startMs).toBe(all[i - 1]!.endMs);
    expect([all[0]!.startMs, all.at(-1)!.endMs]).toEqual([
      daySpan(days[0]!, ZONING).startMs,
      daySpan(days.at(-1)!, ZONING).endMs,
    ]);
    // With one zone, the days' windows, and no second read.
    expect(kafkaReadsOf(days, { timezone: 'America/Chicago' })).toEqual(
      days.map((d) => ({ ...dayWindow(d, 'America/Chicago'), own: true })),
    );
  });

  test('Kafka reads each instant once: consecutive read windows touch, and together cover every site’s days', () => {
    const days = ['2025-03-08', '2025-03-09', '2025-03-10'];
    // Each day's own share, then the last day's later hours.
    const reads = kafkaReadsOf(days, ZONING).map(({ own: _own, ...w }) => w);
    expect(reads.slice(0, -1).map((w) => w.day)).toEqual(days);
    for (let i = 1; i < reads.length; i++) expect(reads[i]!.startMs).toBe(reads[i - 1]!.endMs);
    expect(reads[0]!.startMs).toBe(daySpan(days[0]!, ZONING).startMs);
    expect(reads.at(-1)!.endMs).toBe(daySpan(days.at(-1)!, ZONING).endMs);
    // With one zone, the reads are the days' windows.
    expect(kafkaReadsOf(days, { timezone: 'America/Chicago' }).map(({ own: _own, ...w }) => w)).toEqual(
      days.map((d) => dayWindow(d, 'America/Chicago')),
    );
  });

  test('the folders read are the union of what each site’s day needs', () => {
    // Chicago's 2025-07-15 is in the UTC folders of the 15th and 16th; Tokyo's in the 14th's and 15th's.
    expect(folderDaysFor(['2025-07-15'], 'America/Chicago', 0, 0)).toEqual(['2025-07-15', '2025-07-16']);
    expect(folderDaysFor(['2025-07-15'], 'America/Chicago', 0, 0, ZONING.siteZones)).toEqual([
      '2025-07-14',
      '2025-07-15',
      '2025-07-16',
    ]);
    expect(folderDaysFor(['2025-07-15'], 'America/Chicago', 1, 1, ZONING.siteZones)).toEqual([
      '2025-07-13',
      '2025-07-14',
      '2025-07-15',
      '2025-07-16',
      '2025-07-17',
    ]);
  });

  test('a day takes the failures and expiry of every Kafka read that holds some of its hours, and only those', () => {
    const outcome = (failures: [string, string][] = [], expired: string[] = []) => ({
      offsetTotals: new Map<string, number>(),
      expired,
      failures: new Map(failures),
    });
    const down = (region: string) => [[region, `kafka: cluster ${region}: down`]] as [string, string][];
    /** The batch's reads (kafkaReadsOf), the one at `failing` (an index) failing for SCUS with EUS2 expired. */
    const run = (days: string[], zoning: SiteZoning, failing: number) => {
      const reads = kafkaReadsOf(days, zoning).map(({ own, ...window }, i) => ({
        window,
        own,
        outcome: i === failing ? outcome(down('SCUS'), ['EUS2']) : outcome(),
      }));
      return kafkaOutcomes(days, reads, zoning);
    };
    const days = ['2025-07-15', '2025-07-16'];
    // The 16th's own read holds the 15th's later sites' hours: both days take its failure.
    const second = run(days, ZONING, 1);
    expect([...second.get('2025-07-15')!.failures.keys(), ...second.get('2025-07-15')!.expired]).toEqual([
      'SCUS',
      'EUS2',
    ]);
    expect([...second.get('2025-07-16')!.failures.keys()]).toEqual(['SCUS']);
    // The last day's later hours (its tail read) hold none of the 15th's: only the 16th takes that failure.
    const tail = run(days, ZONING, 2);
    expect([...tail.get('2025-07-15')!.failures.keys(), ...tail.get('2025-07-15')!.expired]).toEqual([]);
    expect([...tail.get('2025-07-16')!.failures.keys()]).toEqual(['SCUS']);
    // Zones 25 hours apart: a day's span reaches into the read two days on, which it takes too.
    const far = { timezone: 'Pacific/Kiritimati', siteZones: { AS: 'Pacific/Pago_Pago' } };
    const three = ['2025-03-01', '2025-03-02', '2025-03-03'];
    expect([...run(three, far, 2).get('2025-03-01')!.failures.keys()]).toEqual(['SCUS']);
    // With one zone a day's read is the whole day: nothing spills.
    const one = { timezone: 'America/Chicago' };
    expect([...run(days, one, 1).get('2025-07-15')!.failures.keys()]).toEqual([]);
  });

  test("daily's today is the earliest in any site's zone, so that yesterday is over for every site", () => {
    // 00:30 in Chicago on the 16th is still 23:30 on the 15th in Mexico City.
    const now = new Date('2025-07-16T05:30:00Z');
    expect(todayOf(now, { timezone: 'America/Chicago' })).toBe('2025-07-16');
    expect(todayOf(now, { timezone: 'America/Chicago', siteZones: { MX: 'America/Mexico_City' } })).toBe('2025-07-15');
  });
});

describe("the embedded engine's day lookup", () => {
  const days = ['2025-03-09', '2025-03-10'];
  const windows = days.map((d) => dayWindow(d, 'America/Chicago'));

  test('with one zone it is the batch’s bucket list, as before', () => {
    const one = dayBuckets(windows);
    const lookup = dayLookupOf(windows, { timezone: 'America/Chicago' });
    expect([lookup.firstBucket, lookup.bucketCount, lookup.days]).toEqual([one.firstBucket, one.days.length, one.days]);
  });

  test("each zone's list gives every bucket its day in that zone, and nothing outside the batch", () => {
    const lookup = dayLookupOf(windows, ZONING);
    expect(lookup.zones).toEqual(['America/Chicago', 'America/Mexico_City', 'Asia/Tokyo']);
    expect(lookup.days).toHaveLength(lookup.bucketCount * 3);
    lookup.zones.forEach((zone, z) => {
      const own = dayBuckets(days.map((d) => dayWindow(d, zone)));
      const list = lookup.days.slice(z * lookup.bucketCount, (z + 1) * lookup.bucketCount);
      const offset = own.firstBucket - lookup.firstBucket;
      expect(list.slice(offset, offset + own.days.length)).toEqual(own.days);
      expect([...list.slice(0, offset), ...list.slice(offset + own.days.length)].every((d) => d === null)).toBe(true);
    });
  });
});
