import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { addDays, dayWindow, daysInRange, explainBadDay, isoInZone, parseDay } from '../../src/dates.js';
import { folderDaysFor } from '../../jobs/read-tiers.js';
import { CLI } from '../support/files.js';

/** An instant's calendar day in a zone, as Intl says it (whatever the machine's zone). */
const localDay = (ms: number, zone: string): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);

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

  it('refuses days the job cannot count (timestamps are read from 1970 to 9999)', () => {
    expect(parseDay('1970-01-02')).toBe('1970-01-02');
    expect(parseDay('1970-01-01')).toBeNull();
    expect(parseDay('0050-03-09')).toBeNull();
    // Its folders, 31 late-arrival days and a zone's day on, stay in year 9999.
    expect(parseDay('9999-11-29')).toBe('9999-11-29');
    expect(parseDay('9999-11-30')).toBeNull();
    expect(parseDay('9999-12-31')).toBeNull();
    expect(explainBadDay('1969-12-31')).toContain('cannot count');
    expect(explainBadDay('2025-02-30')).toContain('February 2025 has 28 days');
  });

  it("starts each day at its first instant: where midnight repeats, the first (Asia/Amman's 2021-10-29)", () => {
    // Clocks went back from 01:00 (+03:00) to 00:00 (+02:00): the day began at 00:00+03:00.
    const amman = dayWindow('2021-10-29', 'Asia/Amman');
    expect(new Date(amman.startMs).toISOString()).toBe('2021-10-28T21:00:00.000Z');
    expect((amman.endMs - amman.startMs) / 3_600_000).toBe(25);
    // West of UTC, Havana's fall-back at 01:00 repeats the hour after midnight.
    const havana = dayWindow('2025-11-02', 'America/Havana');
    expect(new Date(havana.startMs).toISOString()).toBe('2025-11-02T04:00:00.000Z');
    // A day a zone skipped has no instant: Apia went from 2011-12-29 to 2011-12-31.
    const apia = dayWindow('2011-12-30', 'Pacific/Apia');
    expect(apia.endMs - apia.startMs).toBe(0);
  });

  it("is the zone's own first instant of the day, in every zone, around every change of offset of 2019 to 2022", () => {
    // The change days are found from Intl's offsets, not from the code under test: each day whose offset at
    // UTC midnight differs from the day before's, with the days beside it. Checked against Intl's own answer:
    // the start is of the day, the millisecond before it is not (Asia/Amman's 2021-10-29 is among them).
    const wrong: string[] = [];
    let checked = 0;
    for (const zone of Intl.supportedValuesOf('timeZone')) {
      const offsets = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
      const offsetOf = (ms: number) => offsets.formatToParts(ms).find((p) => p.type === 'timeZoneName')!.value;
      const days = new Set<string>();
      let before = offsetOf(Date.UTC(2018, 11, 31));
      for (const day of daysInRange('2019-01-01', '2022-12-31')) {
        const now = offsetOf(Date.parse(`${day}T00:00:00Z`));
        if (now !== before) for (const d of [addDays(day, -2), addDays(day, -1), day, addDays(day, 1)]) days.add(d);
        before = now;
      }
      for (const day of days) {
        const w = dayWindow(day, zone);
        checked++;
        if (w.endMs === w.startMs) continue;
        if (localDay(w.startMs, zone) !== day || localDay(w.startMs - 1, zone) >= day) wrong.push(`${zone} ${day}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
    // A day entered for one minute, then again an hour later: clocks back at 00:01 in St. John's.
    expect(new Date(dayWindow('2010-11-07', 'America/St_Johns').startMs).toISOString()).toBe(
      '2010-11-07T02:30:00.000Z',
    );
  });

  it('cuts the same days whatever zone the machine itself is in (the built job, run with TZ set)', () => {
    // Where the machine's own clock changes, building a wall time through it went wrong: each machine zone's
    // change days are cut in zones far from it by a job running there (jest's process keeps its own zone).
    const targets = [
      'Australia/Sydney',
      'Australia/Lord_Howe',
      'Pacific/Auckland',
      'Pacific/Chatham',
      'America/Havana',
    ];
    const machines = ['America/Santiago', 'Australia/Sydney', 'America/Chicago', 'America/Havana', 'Pacific/Apia'];
    const dates = pathToFileURL(path.join(CLI, '../../src/dates.js')).href;
    const wrong: string[] = [];
    for (const machine of machines) {
      const changeDays = daysInRange('2016-01-01', '2025-12-31').filter((d) => {
        const w = dayWindow(d, machine);
        return w.endMs - w.startMs !== 86_400_000;
      });
      expect([machine, changeDays.length >= 10]).toEqual([machine, true]);
      const script =
        `import { dayWindow, daysInRange } from ${JSON.stringify(dates)};\n` +
        `const [days, zones] = JSON.parse(process.argv[1]);\n` +
        `const out = days.flatMap((d) => zones.map((z) => [d, z, dayWindow(d, z).startMs]));\n` +
        `console.log(JSON.stringify({ out, range: daysInRange('2011-12-28', '2012-01-01') }));`;
      const run = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', script, JSON.stringify([changeDays, targets])],
        {
          env: { ...process.env, TZ: machine },
          encoding: 'utf8',
        },
      );
      expect(run.stderr).toBe('');
      const { out, range } = JSON.parse(run.stdout) as { out: [string, string, number][]; range: string[] };
      expect([machine, range]).toEqual([
        machine,
        ['2011-12-28', '2011-12-29', '2011-12-30', '2011-12-31', '2012-01-01'],
      ]);
      for (const [day, zone, start] of out)
        if (localDay(start, zone) !== day || localDay(start - 1, zone) >= day) wrong.push(`${machine}: ${zone} ${day}`);
    }
    expect(wrong).toEqual([]);
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
