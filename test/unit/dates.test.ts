import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { dayWindow, daysInRange, isoInZone, parseDay } from '../../src/dates.js';
import { folderDaysFor } from '../../jobs/read-tiers.js';

describe('days', () => {
  it('accepts only real calendar days', () => {
    expect(parseDay('2024-02-29')).toBe('2024-02-29');
    expect(parseDay('2025-02-29')).toBeNull();
    expect(parseDay('2025-3-9')).toBeNull();
    expect(parseDay('20250309')).toBeNull();
  });

  it('makes DST days 23 and 25 hours long in America/Chicago', () => {
    const spring = dayWindow('2025-03-09', 'America/Chicago');
    const fall = dayWindow('2025-11-02', 'America/Chicago');
    expect((spring.endMs - spring.startMs) / 3_600_000).toBe(23);
    expect((fall.endMs - fall.startMs) / 3_600_000).toBe(25);
    expect(new Date(spring.startMs).toISOString()).toBe('2025-03-09T06:00:00.000Z');
  });

  it('includes both ends of a range, across a month end', () => {
    expect(daysInRange('2025-02-27', '2025-03-02')).toEqual(['2025-02-27', '2025-02-28', '2025-03-01', '2025-03-02']);
  });

  it("reads no folder before a day's first UTC date without a clock-skew allowance", () => {
    expect(folderDaysFor(['2025-03-09'], 'UTC', 1, 0)).toEqual(['2025-03-09', '2025-03-10']);
    // Tokyo's 2025-03-09 begins at 15:00Z on 03-08: that folder can hold its records, the one before cannot.
    expect(folderDaysFor(['2025-03-09'], 'Asia/Tokyo', 0, 0)).toEqual(['2025-03-08', '2025-03-09']);
  });

  it('reads the UTC folders a zone day may lie in, clockSkewDays early and lateArrivalDays late', () => {
    expect(folderDaysFor(['2025-03-09'], 'UTC', 1, 1)).toEqual(['2025-03-08', '2025-03-09', '2025-03-10']);
    // Chicago's 2025-03-09 runs 06:00Z to 05:00Z the next day: UTC folders 03-09 and 03-10, plus margins.
    expect(folderDaysFor(['2025-03-09'], 'America/Chicago', 2, 1)).toEqual([
      '2025-03-08',
      '2025-03-09',
      '2025-03-10',
      '2025-03-11',
      '2025-03-12',
    ]);
  });
});

describe('an instant as ISO-8601 in a zone', () => {
  /** date-fns's own text, which isoInZone must give byte for byte (it only caches each quarter hour's offset). */
  const reference = (ms: number, zone: string) => format(new TZDate(ms, zone), "yyyy-MM-dd'T'HH:mm:ss.SSSxxx");

  it('is exactly date-fns’s text in every zone, across DST changes, odd historical offsets and the years’ ends', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    expect(zones.length).toBeGreaterThan(300);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const fixed = [
      0,
      Date.UTC(1971, 11, 31, 23, 59, 59, 999), // Monrovia's -0:44:30 until 1972
      Date.UTC(2025, 2, 9, 7, 59, 59, 999), // Chicago springs forward at 08:00 UTC
      Date.UTC(2025, 2, 9, 8, 0, 0, 0),
      Date.UTC(2025, 10, 2, 6, 59, 59, 999), // and falls back at 07:00 UTC
      Date.UTC(2025, 10, 2, 7, 0, 0, 0),
      Date.UTC(2025, 9, 5, 15, 30, 0, 0), // Lord Howe's half-hour DST step
      253402300799999, // the last instant the engine reads
    ];
    let compared = 0;
    for (const zone of zones) {
      const instants = [...fixed, ...Array.from({ length: 40 }, () => Math.floor(random() * 4_102_444_800_000))];
      for (const ms of instants) {
        expect([zone, ms, isoInZone(ms, zone)]).toEqual([zone, ms, reference(ms, zone)]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('is exact for every minute around a day with a DST change, where a quarter hour holds two offsets or one', () => {
    const wrong: [string, number, string, string][] = [];
    let compared = 0;
    for (const zone of ['America/Chicago', 'Australia/Lord_Howe', 'Europe/London', 'America/St_Johns']) {
      for (const start of [Date.UTC(2025, 2, 8, 12), Date.UTC(2025, 3, 5, 12), Date.UTC(2025, 9, 4, 12)]) {
        for (let ms = start; ms < start + 2 * 86_400_000; ms += 60_000 + 7) {
          compared++;
          const [fast, slow] = [isoInZone(ms, zone), reference(ms, zone)];
          if (fast !== slow) wrong.push([zone, ms, fast, slow]);
        }
      }
    }
    expect(compared).toBeGreaterThan(30_000);
    expect(wrong).toEqual([]);
  });
});
