import {
  comparePct,
  hasVolumeHistory,
  volumeBaseline,
  volumeDrops,
  type VolumePoint,
} from '../../src/reconcile/volume.js';
import { addVolumePoint } from '../../jobs/history-reader.js';
import { addDays, daysInRange } from '../../src/dates.js';

const points = (from: string, to: string, count: (day: string, i: number) => number): VolumePoint[] =>
  daysInRange(from, to).map((day, i) => ({ day, counts: { gcs_records: count(day, i) } }));

describe('volume baseline', () => {
  it('is the median of the same weekday when the trailing 35 days hold three of their five', () => {
    // 2025-03-29 is a Saturday: Saturdays carry 200, other days 1000.
    const saturday = (d: string) => new Date(`${d}T00:00:00Z`).getUTCDay() === 6;
    const history = points('2025-02-22', '2025-03-28', (d) => (saturday(d) ? 200 : 1000));
    expect(volumeBaseline('2025-03-29', history, 'gcs_records')).toEqual({
      median: 200,
      days: 5,
      basis: 'same weekday',
    });
    // Two of the five Saturdays missing (an outage's NO_DATA, a folder's first weeks): still theirs.
    const gaps = history.filter((p) => !['2025-03-15', '2025-02-22'].includes(p.day));
    expect(volumeBaseline('2025-03-29', gaps, 'gcs_records')).toEqual({ median: 200, days: 3, basis: 'same weekday' });
    // Only two: the trailing 14 days, weekdays mixed.
    const two = gaps.filter((p) => p.day !== '2025-03-22');
    expect(volumeBaseline('2025-03-29', two, 'gcs_records')?.basis).toBe('trailing');
    expect(volumeDrops('2025-03-29', { gcs_records: 150 }, history, 50)).toEqual([]);
    expect(volumeDrops('2025-03-29', { gcs_records: 99 }, history, 50)).toEqual(['gcs_records 99 < 50% of median 200']);
  });

  it('falls back to the trailing 14 days with fewer same weekdays, and ignores days on or after the checked one', () => {
    const history = [
      ...points('2025-03-10', '2025-03-19', (_, i) => 1000 + i),
      ...points('2025-03-20', '2025-03-25', () => 1),
    ];
    expect(volumeBaseline('2025-03-20', history, 'gcs_records')).toEqual({
      median: 1004.5,
      days: 10,
      basis: 'trailing',
    });
  });

  it('has no baseline below three earlier days, and counts a missing or empty column as no value', () => {
    const history = points('2025-03-10', '2025-03-11', () => 1000);
    expect(volumeBaseline('2025-03-12', history, 'gcs_records')).toBeNull();
    expect(volumeBaseline('2025-03-12', [...history, { day: '2025-03-09', counts: {} }], 'gcs_records')).toBeNull();
    expect(volumeDrops('2025-03-12', { gcs_records: 1 }, history, 50)).toEqual([]);
  });

  it('flags strictly below the share: exactly half is not a drop', () => {
    const history = points(addDays('2025-03-20', -14), '2025-03-19', () => 1000);
    expect(volumeDrops('2025-03-20', { gcs_records: 500, proxy_requests: null }, history, 50)).toEqual([]);
    expect(volumeDrops('2025-03-20', { gcs_records: 499 }, history, 50)).toEqual([
      'gcs_records 499 < 50% of median 1000',
    ]);
  });
});

describe('the volume history as reports give it', () => {
  it("leaves a NO_DATA day's counts out: an outage's zeros would pull the median down and hide the next drop", () => {
    const history = new Map<string, VolumePoint[]>();
    for (const day of daysInRange('2025-03-15', '2025-03-28')) {
      const outage = day <= '2025-03-22';
      addVolumePoint(history, 'US', day, { status: outage ? 'NO_DATA' : 'PASS', gcs_records: outage ? '0' : '1000' });
    }
    const us = history.get('US')!;
    expect(us).toHaveLength(14);
    expect(volumeBaseline('2025-03-29', us, 'gcs_records')).toEqual({ median: 1000, days: 6, basis: 'trailing' });
    // The feed back at 30 %: a drop, which the zeros (median 0) had switched the check off for.
    expect(volumeDrops('2025-03-29', { gcs_records: 300 }, us, 50)).toEqual(['gcs_records 300 < 50% of median 1000']);
  });
});

describe('thresholds compared exactly', () => {
  it('takes a percentage as written: a count exactly at it is not below it (doubles said 161 < 32.2 % of 500)', () => {
    expect(comparePct(161, 32.2, 500)).toBe(0);
    expect(comparePct(160, 32.2, 500)).toBe(-1);
    expect(comparePct(69, 2.3, 3000)).toBe(0);
    expect(comparePct(70, 2.3, 3000)).toBe(1);
    // A median of an even count of days ends in .5; tiny and whole thresholds too.
    expect(comparePct(50, 50, 100.5)).toBe(-1);
    expect(comparePct(1, 1e-7, 10_000_000_000)).toBe(-1);
    expect(comparePct(1, 1e-7, 1_000_000_000)).toBe(0);
    expect(comparePct(500, 50, 1000)).toBe(0);
    const history = daysInRange('2025-03-01', '2025-03-14').map((day) => ({ day, counts: { proxy_requests: 500 } }));
    expect(volumeDrops('2025-03-15', { proxy_requests: 161 }, history, 32.2)).toEqual([]);
    expect(volumeDrops('2025-03-15', { proxy_requests: 160 }, history, 32.2)).toEqual([
      'proxy_requests 160 < 32.2% of median 500',
    ]);
  });

  it('has a history on a day only where some site has a baseline: one or two earlier days are none', () => {
    const points = (n: number) =>
      daysInRange(addDays('2025-03-15', -n), '2025-03-14').map((day) => ({ day, counts: { gcs_records: 10 } }));
    expect(hasVolumeHistory(new Map([['US', points(2)]]), '2025-03-15')).toBe(false);
    expect(hasVolumeHistory(new Map([['US', points(3)]]), '2025-03-15')).toBe(true);
    expect(hasVolumeHistory(new Map([['US', [{ day: '2025-03-14', counts: {} }]]]), '2025-03-15')).toBe(false);
  });
});
