import { dayWindow, daysInRange, parseDay } from '../../src/dates.js';
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
