/**
 * Where a day's read of a partition stops (src/tiers/kafka-stop.ts), on partitions simulated message by
 * message: Kafka's lookup answers the first offset stamped at or after an instant, so a message stamped
 * ahead misleads it. The brokers' own behaviour is in test/integration/kafka.test.ts.
 */
import { prng } from '../../src/demo/generator.js';
import { PartitionRead, type BrokenStop, type MissedMessages } from '../../src/tiers/kafka-stop.js';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2025, 2, 10);

/** Kafka's answer: the first offset stamped at or after `ms`, else the high watermark. */
function lookup(stamps: number[], ms: number): number {
  const i = stamps.findIndex((s) => s >= ms);
  return i < 0 ? stamps.length : i;
}

/** One day's read, as readKafkaCluster drives it: the offsets read and counted, the stops that broke. */
function readDay(
  stamps: number[],
  startMs: number,
  opts: { marginMs?: number; confirm?: number } = {},
): { offsets: number[]; read: number[]; broken: BrokenStop | null; missed: MissedMessages | null } {
  const endMs = startMs + DAY_MS;
  const marginMs = opts.marginMs ?? 0;
  const start = lookup(stamps, startMs);
  const stop = Math.max(start, lookup(stamps, endMs + marginMs));
  const read = new PartitionRead(
    { partition: 0, start: BigInt(start), stop: BigInt(stop), high: BigInt(stamps.length) },
    { startMs, endMs, marginMs, confirm: opts.confirm ?? 2000 },
  );
  const offsets: number[] = [];
  const seen: number[] = [];
  for (let o = start; BigInt(o) < read.end; o++) {
    seen.push(o);
    if (read.counts(BigInt(o), stamps[o]!)) offsets.push(o);
  }
  return { offsets, read: seen, broken: read.broken, missed: read.missed };
}

const at = (day: number, hours: number): number => T0 + day * DAY_MS + hours * 3_600_000;

/** A read of day `day` (no margin) over `range`, confirmed by `confirm` messages. */
const dayRead = (range: ConstructorParameters<typeof PartitionRead>[0], day: number, confirm: number) =>
  new PartitionRead(range, { startMs: at(day, 0), endMs: at(day + 1, 0), marginMs: 0, confirm });

describe('a partition in order', () => {
  const stamps = [at(0, 1), at(0, 5), at(0, 23.9), at(1, 0.1), at(1, 2), at(2, 1)];

  test('the lookup ends the day; the messages after it only confirm that', () => {
    expect(readDay(stamps, at(0, 0))).toMatchObject({ offsets: [0, 1, 2], broken: null, missed: null });
    expect(readDay(stamps, at(1, 0))).toMatchObject({ offsets: [3, 4], broken: null, missed: null });
    expect(readDay(stamps, at(2, 0))).toMatchObject({ offsets: [5], broken: null, missed: null });
  });

  test('the read never goes past the high watermark, and a day after every message reads nothing', () => {
    const read = dayRead({ partition: 3, start: 6n, stop: 6n, high: 6n }, 3, 2000);
    expect(read.end).toBe(6n);
    expect(read.doneAt(5n)).toBe(true);
  });

  test('a stop is confirmed by `confirm` messages: the read ends right after them', () => {
    const read = dayRead({ partition: 0, start: 0n, stop: 3n, high: 6n }, 0, 1);
    expect(read.end).toBe(5n);
    expect(read.doneAt(4n)).toBe(true);
    expect(read.doneAt(3n)).toBe(false);
  });
});

describe('a message stamped ahead', () => {
  // d d F F d d | n n | m: two messages 400 days ahead, in the middle of day 0.
  const F = at(400, 0);
  const stamps = [at(0, 1), at(0, 2), F, F + 1, at(0, 3), at(0, 23.99), at(1, 1), at(1, 5), at(2, 1)];

  test('the day goes on past it to its own end, and the misled stop is named with its stamp', () => {
    expect(readDay(stamps, at(0, 0))).toMatchObject({
      offsets: [0, 1, 4, 5],
      broken: { partition: 0, offset: '2', stampMs: F, stops: 1, counted: 2 },
      missed: null,
    });
  });

  test('the later days, whose ranges the lookup empties, still get their own messages', () => {
    expect(readDay(stamps, at(1, 0)).offsets).toEqual([6, 7]);
    expect(readDay(stamps, at(2, 0)).offsets).toEqual([8]);
    // The day of their stamp gets them, with nothing to check past them.
    expect(readDay(stamps, at(400, 0))).toMatchObject({ offsets: [2, 3], broken: null, missed: null });
  });

  test('a run of them longer than the messages that check a stop hides the day behind it', () => {
    expect(readDay(stamps, at(0, 0), { confirm: 1 }).offsets).toEqual([0, 1]);
    expect(readDay(stamps, at(0, 0), { confirm: 2 }).offsets).toEqual([0, 1, 4, 5]);
  });
});

test('a stop at an offset that holds no message is named without a stamp', () => {
  const read = new PartitionRead(
    { partition: 1, start: 0n, stop: 2n, high: 10n },
    { startMs: at(0, 0), endMs: at(1, 0), marginMs: 0, confirm: 5 },
  );
  expect(read.counts(0n, at(0, 1))).toBe(true);
  // offset 2 is a gap (a control record): the consumer never sees it
  expect(read.counts(3n, at(0, 2))).toBe(true);
  expect(read.broken).toEqual({ partition: 1, offset: '2', stampMs: null, stops: 1, counted: 1 });
  expect(read.end).toBe(10n);
});

test('a producer whose clock stays ahead breaks a stop with each message: one entry per partition', () => {
  // Every other message of the day's last hour is stamped an hour ahead.
  const stamps: number[] = [];
  for (let m = 0; m < 60; m++) stamps.push(at(0, 23 + m / 60) + (m % 2 === 1 ? 3_600_000 : 0));
  stamps.push(at(1, 2), at(1, 3));
  const day = readDay(stamps, at(0, 0), { marginMs: 300_000, confirm: 3 });
  expect(day.offsets).toEqual(stamps.flatMap((s, o) => (s < at(1, 0) ? [o] : [])));
  // The lookup lands on the first message an hour ahead that is 5 minutes past midnight (23:05 + 1 h); each
  // odd message after it is a candidate that the next, even one, breaks, up to 23:57's; 23:59's holds.
  expect(day.broken).toEqual({ partition: 0, offset: '5', stampMs: at(1, 5 / 60), stops: 27, counted: 27 });
});

describe('a message of a day past the end its own read confirmed', () => {
  // Day 0, then four messages of day 1 (confirm: 3), then one of day 0 stamped 10 minutes before midnight.
  const stamps = [at(0, 1), at(0, 23), at(1, 1), at(1, 2), at(1, 3), at(1, 4), at(0, 23.8), at(1, 5)];

  test("counts on no day, and the next day's read names it", () => {
    const day = readDay(stamps, at(0, 0), { marginMs: 300_000, confirm: 3 });
    expect(day.offsets).toEqual([0, 1]);
    expect(day.missed).toBeNull();
    const next = readDay(stamps, at(1, 0), { marginMs: 300_000, confirm: 3 });
    expect(next.offsets).toEqual([2, 3, 4, 5, 7]);
    expect(next.missed).toEqual({ partition: 0, offset: '6', stampMs: at(0, 23.8), count: 1 });
  });

  test('one within the checked offsets is found by its day, and nothing is named', () => {
    const day = readDay(stamps, at(0, 0), { marginMs: 300_000, confirm: 4 });
    expect(day.offsets).toEqual([0, 1, 6]);
    expect(readDay(stamps, at(1, 0), { marginMs: 300_000, confirm: 4 }).missed).toBeNull();
  });
});

describe('generated partitions: every message counts on its own day, exactly once', () => {
  /** In order within two minutes, but every tenth message or so stamped one to three hours before it was appended. */
  function partitionWithLate(seed: number): number[] {
    const rnd = prng(seed);
    const stamps: number[] = [];
    for (let t = at(0, 0); t < at(5, 0); t += Math.floor(rnd() * 600_000)) {
      const late = rnd() < 0.1 ? 3_600_000 + Math.floor(rnd() * 7_200_000) : Math.floor(rnd() * 120_000);
      stamps.push(Math.max(at(0, 0), t - late));
    }
    return stamps;
  }

  /**
   * Five days of messages appended in time order, each stamped up to `jitterMs` before it was appended
   * (a record is stamped when sent), and some stamped ahead by days (a producer clock ahead), in runs.
   */
  function partition(seed: number, jitterMs: number): number[] {
    const rnd = prng(seed);
    const stamps: number[] = [];
    for (let t = at(0, 0); t < at(5, 0); t += Math.floor(rnd() * 600_000)) {
      if (rnd() < 0.004) {
        const ahead = Math.floor(1 + rnd() * 400) * DAY_MS;
        for (let k = Math.floor(1 + rnd() * 20); k > 0; k--) stamps.push(t + ahead);
      } else stamps.push(Math.max(at(0, 0), t - Math.floor(rnd() * jitterMs)));
    }
    return stamps;
  }

  test.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i', (seed) => {
    const stamps = partition(seed, 20 * 60_000);
    const counted = new Map<number, number>();
    for (let d = 0; d < 5; d++) {
      for (const o of readDay(stamps, at(d, 0), { marginMs: 300_000, confirm: 50 }).offsets) {
        counted.set(o, (counted.get(o) ?? 0) + 1);
      }
    }
    const ofTheDays = stamps.flatMap((s, o) => (s < at(5, 0) ? [o] : []));
    expect(ofTheDays.length).toBeGreaterThan(500);
    expect([...counted.keys()].sort((a, b) => a - b)).toEqual(ofTheDays);
    expect([...counted.values()].every((n) => n === 1)).toBe(true);
    // Without the check, the lookups alone miss messages: the generated disorder is real.
    const lookupsOnly = [0, 1, 2, 3, 4].flatMap((d) => readDay(stamps, at(d, 0), { marginMs: 300_000, confirm: 0 }));
    expect(lookupsOnly.flatMap((r) => r.offsets).length).toBeLessThan(ofTheDays.length);
  });

  test('disorder past the checked offsets: every message named is one no day counts, on eight seeds', () => {
    let [lostInAll, namedInAll] = [0, 0];
    for (let seed = 1; seed <= 8; seed++) {
      const stamps = partitionWithLate(seed);
      const counted = new Set<number>();
      const reads = [0, 1, 2, 3, 4].map((d) => readDay(stamps, at(d, 0), { marginMs: 300_000, confirm: 8 }));
      for (const r of reads) for (const o of r.offsets) counted.add(o);
      const lost = new Set(stamps.flatMap((s, o) => (s < at(5, 0) && !counted.has(o) ? [o] : [])));
      reads.forEach((r, d) => {
        if (!r.missed) return;
        // Named: the first, and every message stamped before the day that the read met after it.
        const first = Number(r.missed.offset);
        const named = r.read.filter((o) => o >= first && stamps[o]! < at(d, 0));
        expect(named[0]).toBe(first);
        expect(r.missed.count).toBe(named.length);
        for (const o of named) expect(lost.has(o)).toBe(true);
        namedInAll += named.length;
      });
      lostInAll += lost.size;
    }
    // Hours of delay against 8 offsets (about 40 minutes) loses messages, and a good part of them are named.
    expect(lostInAll).toBeGreaterThan(10);
    expect(namedInAll).toBeGreaterThan(lostInAll / 4);
  });
});
