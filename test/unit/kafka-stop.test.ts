/**
 * Where a day's read of a partition stops (src/tiers/kafka-stop.ts), on partitions simulated message by
 * message: Kafka's lookup answers the first offset stamped at or after an instant, so a message stamped
 * ahead misleads it. The brokers' own behaviour is in test/integration/kafka.test.ts.
 */
import { prng } from '../../src/demo/generator.js';
import { PartitionRead, type BrokenStop } from '../../src/tiers/kafka-stop.js';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2025, 2, 10);

/** Kafka's answer: the first offset stamped at or after `ms`, else the high watermark. */
function lookup(stamps: number[], ms: number): number {
  const i = stamps.findIndex((s) => s >= ms);
  return i < 0 ? stamps.length : i;
}

/** One day's read, as readKafkaCluster drives it: the offsets counted and the stops that broke. */
function readDay(
  stamps: number[],
  startMs: number,
  opts: { marginMs?: number; confirm?: number } = {},
): { offsets: number[]; broken: BrokenStop[] } {
  const endMs = startMs + DAY_MS;
  const marginMs = opts.marginMs ?? 0;
  const start = lookup(stamps, startMs);
  const stop = Math.max(start, lookup(stamps, endMs + marginMs));
  const read = new PartitionRead(
    { partition: 0, start: BigInt(start), stop: BigInt(stop), high: BigInt(stamps.length) },
    { startMs, endMs, marginMs, confirm: opts.confirm ?? 2000 },
  );
  const offsets: number[] = [];
  for (let o = start; BigInt(o) < read.end; o++) if (read.take(BigInt(o), stamps[o]!) === 'day') offsets.push(o);
  return { offsets, broken: read.broken };
}

const at = (day: number, hours: number): number => T0 + day * DAY_MS + hours * 3_600_000;

describe('a partition in order', () => {
  const stamps = [at(0, 1), at(0, 5), at(0, 23.9), at(1, 0.1), at(1, 2), at(2, 1)];

  test('the lookup ends the day; the messages after it only confirm that', () => {
    expect(readDay(stamps, at(0, 0))).toEqual({ offsets: [0, 1, 2], broken: [] });
    expect(readDay(stamps, at(1, 0))).toEqual({ offsets: [3, 4], broken: [] });
    expect(readDay(stamps, at(2, 0))).toEqual({ offsets: [5], broken: [] });
  });

  test('the read never goes past the high watermark, and a day after every message reads nothing', () => {
    const read = new PartitionRead(
      { partition: 3, start: 6n, stop: 6n, high: 6n },
      { startMs: at(3, 0), endMs: at(4, 0), marginMs: 0, confirm: 2000 },
    );
    expect(read.end).toBe(6n);
    expect(read.doneAt(5n)).toBe(true);
  });

  test('a stop is confirmed by `confirm` messages: the read ends right after them', () => {
    const read = new PartitionRead(
      { partition: 0, start: 0n, stop: 3n, high: 6n },
      { startMs: at(0, 0), endMs: at(1, 0), marginMs: 0, confirm: 1 },
    );
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
    expect(readDay(stamps, at(0, 0))).toEqual({
      offsets: [0, 1, 4, 5],
      broken: [{ partition: 0, offset: '2', stampMs: F, counted: 2 }],
    });
  });

  test('the later days, whose ranges the lookup empties, still get their own messages', () => {
    expect(readDay(stamps, at(1, 0)).offsets).toEqual([6, 7]);
    expect(readDay(stamps, at(2, 0)).offsets).toEqual([8]);
    // The day of their stamp gets them, with nothing to check past them.
    expect(readDay(stamps, at(400, 0))).toEqual({ offsets: [2, 3], broken: [] });
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
  expect(read.take(0n, at(0, 1))).toBe('day');
  // offset 2 is a gap (a control record): the consumer never sees it
  expect(read.take(3n, at(0, 2))).toBe('day');
  expect(read.broken).toEqual([{ partition: 1, offset: '2', stampMs: null, counted: 1 }]);
  expect(read.end).toBe(10n);
});

describe('generated partitions: every message counts on its own day, exactly once', () => {
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
});
