import { dayWindow } from '../../src/dates.js';
import { dayLookupOf } from '../../src/engine/day-lookup.js';
import { foldersOfDay, sliceNames } from '../../src/engine/day-slices.js';

const lookupOf = (days: string[], timezone: string, siteZones: Record<string, string> = {}) =>
  dayLookupOf(
    days.map((d) => dayWindow(d, timezone)),
    { timezone, ...(Object.keys(siteZones).length ? { siteZones } : {}) },
  );

describe('foldersOfDay: the folder dates that can hold a row of a report day', () => {
  const reach = (lateDays: number, clockSkewDays = 1) => ({ lateDays, clockSkewDays });

  test('UTC: from clockSkewDays before to lateDays after', () => {
    const lookup = lookupOf(['2025-03-08', '2025-03-09'], 'UTC');
    expect(foldersOfDay(lookup, '2025-03-09', reach(1))).toEqual({ from: '2025-03-08', to: '2025-03-10' });
    expect(foldersOfDay(lookup, '2025-03-08', reach(3))).toEqual({ from: '2025-03-07', to: '2025-03-11' });
    expect(foldersOfDay(lookup, '2025-03-10', reach(1))).toBeNull();
    // Without skew (the default) no folder before the day's own can hold its rows.
    expect(foldersOfDay(lookup, '2025-03-09', reach(1, 0))).toEqual({ from: '2025-03-09', to: '2025-03-10' });
  });

  test('a zone whose day spans two UTC dates widens the range on its side', () => {
    // Kolkata's 03-09 runs from 03-08 18:30 to 03-09 18:30 UTC; Chicago's from 03-09 06:00 to 03-10 05:00 (DST).
    expect(foldersOfDay(lookupOf(['2025-03-09'], 'Asia/Kolkata'), '2025-03-09', reach(1))).toEqual({
      from: '2025-03-07',
      to: '2025-03-10',
    });
    expect(foldersOfDay(lookupOf(['2025-03-09'], 'America/Chicago'), '2025-03-09', reach(1))).toEqual({
      from: '2025-03-08',
      to: '2025-03-11',
    });
  });

  test("with sites in zones of their own, the union of every zone's UTC dates", () => {
    // Kolkata's 03-09 starts on 03-08 (UTC); Chicago's ends on 03-10: the day's rows may lie in either.
    const lookup = lookupOf(['2025-03-09'], 'Asia/Kolkata', { US: 'America/Chicago' });
    expect(foldersOfDay(lookup, '2025-03-09', reach(1))).toEqual({ from: '2025-03-07', to: '2025-03-11' });
  });
});

describe('sliceNames', () => {
  const spec = {
    tier: 'proxy' as const,
    sites: ['US', 'CA'],
    lateDays: 1,
    clockSkewDays: 1,
    lookup: lookupOf(['2025-03-08', '2025-03-09'], 'UTC'),
  };
  const objects = [
    { folderDay: '2025-03-07', identity: 'a' },
    { folderDay: '2025-03-08', identity: 'b' },
    { folderDay: '2025-03-09', identity: 'c' },
    { folderDay: '2025-03-10', identity: 'd' },
  ];
  const names = (objs: typeof objects, s = spec) => sliceNames(s, ['2025-03-08', '2025-03-09'], objs, 'shape');

  test("a day's name changes with the objects of its own folders only", () => {
    const base = names(objects);
    expect(base.get('2025-03-08')).toMatch(/^day-[0-9a-f]{64}$/);
    expect(base.get('2025-03-08')).not.toBe(base.get('2025-03-09'));
    // 03-10's folder holds 03-09's late records, never 03-08's.
    const changed = names(objects.map((o) => (o.identity === 'd' ? { ...o, identity: 'd2' } : o)));
    expect(changed.get('2025-03-08')).toBe(base.get('2025-03-08'));
    expect(changed.get('2025-03-09')).not.toBe(base.get('2025-03-09'));
    // An object added to 03-07's folder can hold 03-08's records (a folder may be dated a day before a record).
    const added = names([...objects, { folderDay: '2025-03-07', identity: 'e' }]);
    expect(added.get('2025-03-08')).not.toBe(base.get('2025-03-08'));
    expect(added.get('2025-03-09')).toBe(base.get('2025-03-09'));
    // Without skew it cannot: no run of 03-08 reads that folder, and no record there counts for 03-08.
    const unskewed = { ...spec, clockSkewDays: 0 };
    expect(names([...objects, { folderDay: '2025-03-07', identity: 'e' }], unskewed).get('2025-03-08')).toBe(
      names(objects, unskewed).get('2025-03-08'),
    );
    // Order of listing does not matter.
    expect(names([...objects].reverse())).toEqual(base);
    // The same object read under another folder date (a link, a second location) counts differently.
    const moved = names(objects.map((o) => (o.identity === 'b' ? { ...o, folderDay: '2025-03-09' } : o)));
    expect(moved.get('2025-03-09')).not.toBe(base.get('2025-03-09'));
  });

  test('what the rows depend on besides objects is in the name: sites, late days, skew, zones, parse', () => {
    const base = names(objects);
    for (const other of [
      sliceNames({ ...spec, sites: ['US'] }, ['2025-03-08'], objects, 'shape'),
      sliceNames({ ...spec, lateDays: 2 }, ['2025-03-08'], objects, 'shape'),
      sliceNames({ ...spec, clockSkewDays: 0 }, ['2025-03-08'], objects, 'shape'),
      sliceNames({ ...spec, tier: 'gcs' }, ['2025-03-08'], objects, 'shape'),
      sliceNames(spec, ['2025-03-08'], objects, 'another parse'),
      // A site's own zone moves which instants are its day, though the folders stay the same.
      sliceNames(
        { ...spec, lookup: lookupOf(['2025-03-08', '2025-03-09'], 'UTC', { CA: 'Europe/London' }) },
        ['2025-03-08'],
        objects,
        'shape',
      ),
    ])
      expect(other.get('2025-03-08')).not.toBe(base.get('2025-03-08'));
  });

  test('no name when an object is undated (it can hold any day) or has no identity', () => {
    expect([...names([...objects, { folderDay: null, identity: 'u' } as never]).values()]).toEqual([null, null]);
    expect([...names([...objects, { folderDay: '2025-03-08' } as never]).values()]).toEqual([null, null]);
  });
});
