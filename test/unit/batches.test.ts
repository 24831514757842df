import { runBatches } from '../../jobs/batches.js';
import { contiguousBatches, lanesOf } from '../../jobs/backfill.js';
import { ResourceError } from '../../src/errors.js';

const DAYS = ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07'];

/** A batch runner whose engine holds at most `fits` days at once, and that writes `writesBeforeFailing` first. */
function runner(fits: number, writesBeforeFailing = 0) {
  const calls: string[][] = [];
  const splits: [string[], number][] = [];
  return {
    calls,
    splits,
    run: (batch: string[], written: string[]) => {
      calls.push(batch);
      if (batch.length > fits) {
        written.push(...batch.slice(0, writesBeforeFailing));
        return Promise.reject(new ResourceError('out of memory'));
      }
      written.push(...batch);
      return Promise.resolve();
    },
    retryable: (e: unknown) => e instanceof ResourceError,
    onSplit: (left: string[], half: number) => {
      splits.push([left, half]);
    },
  };
}

describe('running days in batches', () => {
  it('runs every day once, in order, in batches of the configured size', async () => {
    const r = runner(7);
    const results: string[] = [];
    await runBatches(DAYS, 3, results, r);
    expect(r.calls).toEqual([DAYS.slice(0, 3), DAYS.slice(3, 6), DAYS.slice(6)]);
    expect(results).toEqual(DAYS);
    expect(r.splits).toEqual([]);
  });

  it('never lets a batch span a gap in the days (a batch reads from its first day to its last)', async () => {
    const r = runner(7);
    const days = ['2025-02-26', '2025-02-28', '2025-03-01', '2025-03-02', '2025-03-03', '2025-03-06'];
    const results: string[] = [];
    await runBatches(days, 3, results, r);
    expect(r.calls).toEqual([
      ['2025-02-26'],
      ['2025-02-28', '2025-03-01', '2025-03-02'],
      ['2025-03-03'],
      ['2025-03-06'],
    ]);
    expect(results).toEqual(days);
  });

  it('reads a batch that runs out of memory again in halves, down to what fits, and reports every day once', async () => {
    const r = runner(2);
    const results: string[] = [];
    await runBatches(DAYS, 7, results, r);
    expect(results).toEqual(DAYS);
    expect(r.calls).toEqual([
      DAYS,
      DAYS.slice(0, 4),
      DAYS.slice(0, 2),
      DAYS.slice(2, 4),
      DAYS.slice(4, 7),
      DAYS.slice(4, 6),
      DAYS.slice(6),
    ]);
    expect(r.splits.map(([left, half]) => [left.length, half])).toEqual([
      [7, 4],
      [4, 2],
      [3, 2],
    ]);
  });

  it('starts the batches after a split at the size that fitted, so a long range runs out of memory once', async () => {
    const days = Array.from({ length: 14 }, (_, i) => `2025-03-${String(i + 1).padStart(2, '0')}`);
    const r = runner(3);
    const results: string[] = [];
    await runBatches(days, 7, results, r);
    expect(results).toEqual(days);
    expect(r.calls.map((b) => b.length)).toEqual([7, 4, 2, 2, 3, 2, 2, 2, 1]);
    expect(r.splits.map(([left, half]) => [left.length, half])).toEqual([
      [7, 4],
      [4, 2],
    ]);
  });

  it('keeps the days a failing batch already wrote and reads only the rest again', async () => {
    const r = runner(2, 1);
    const results: string[] = [];
    await runBatches(DAYS.slice(0, 3), 3, results, r);
    expect(r.calls).toEqual([DAYS.slice(0, 3), DAYS.slice(1, 2), DAYS.slice(2, 3)]);
    expect(results).toEqual(DAYS.slice(0, 3));
  });

  it('passes on an out-of-memory failure of a single day, keeping the days written before it', async () => {
    const r = runner(0);
    const results: string[] = [];
    await expect(runBatches(DAYS.slice(0, 2), 2, results, r)).rejects.toBeInstanceOf(ResourceError);
    expect(r.calls).toEqual([DAYS.slice(0, 2), DAYS.slice(0, 1)]);
    expect(results).toEqual([]);
  });

  it('never retries a failure that is not about memory', async () => {
    const results: string[] = [];
    const calls: string[][] = [];
    const failure = new Error('a tier could not be read');
    await expect(
      runBatches(DAYS, 7, results, {
        run: (batch) => {
          calls.push(batch);
          return Promise.reject(failure);
        },
        retryable: (e) => e instanceof ResourceError,
        onSplit: () => undefined,
      }),
    ).rejects.toBe(failure);
    expect(calls).toEqual([DAYS]);
  });
});

describe("backfill's lanes", () => {
  it('deals the batches to the lanes in turn, and a lane run by runBatches reads them as they were cut', async () => {
    const batches = contiguousBatches(DAYS, 2);
    const lanes = lanesOf(batches, 2);
    expect(lanes).toEqual([
      [...DAYS.slice(0, 2), ...DAYS.slice(4, 6)],
      [...DAYS.slice(2, 4), DAYS[6]],
    ]);
    expect(lanesOf(batches, 1)).toEqual([DAYS]);
    expect(lanesOf(batches, 9)).toHaveLength(batches.length);
    // Each lane's batches, read by runBatches at the same size: the batches the lane was dealt, none merged.
    for (const lane of lanes) {
      const r = runner(2);
      await runBatches(lane, 2, [], r);
      expect(r.calls).toEqual(batches.filter((b) => lane.includes(b[0]!)));
    }
  });
});
