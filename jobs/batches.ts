import { addDays } from '../src/dates.js';
import type { DayKey } from '../src/domain.js';

export interface BatchRunner<T> {
  /** Reads and writes one batch, pushing each day's result into `written` as soon as it is written. */
  run(batch: DayKey[], written: T[]): Promise<void>;
  /** Whether a batch's failure may be met by reading its days again in smaller batches (out of memory). */
  retryable(e: unknown): boolean;
  /** Told when the days left of a batch are read again, `half` days at a time, and why. */
  onSplit(left: DayKey[], half: number, cause: unknown): void;
}

/**
 * Runs the days in batches of `size` consecutive days (a gap in `days`, as daily's catch-up days leave,
 * ends a batch: a batch reads the folders and Kafka's range from its first day to its last), in order, collecting each day's result into `results`. A batch
 * that fails retryably (too big for the engine's memory) is read again in halves, down to a day at a
 * time: the days it had already written stand (each written whole), only the rest are read again; and
 * the batches after it start at that smaller size, so a long range runs out of memory once, not once
 * a batch. A day that fails alone, or any other failure, is passed on, with every result so far in
 * `results`.
 */
export async function runBatches<T>(
  days: readonly DayKey[],
  size: number,
  results: T[],
  runner: BatchRunner<T>,
): Promise<void> {
  // Halves of a batch that did not fit, to run before the range goes on; then the range, `size` days at a time.
  const pending: DayKey[][] = [];
  let next = 0;
  while (pending.length > 0 || next < days.length) {
    const batch = pending.shift() ?? days.slice(next, (next += consecutive(days, next, size)));
    const written: T[] = [];
    try {
      await runner.run(batch, written);
    } catch (e) {
      const left = batch.slice(written.length);
      if (left.length < 2 || !runner.retryable(e)) throw e;
      const half = Math.ceil(left.length / 2);
      pending.unshift(left.slice(0, half), left.slice(half));
      size = Math.min(size, half);
      runner.onSplit(left, half, e);
    } finally {
      results.push(...written);
    }
  }
}

/** How many of the days from `start` (at most `size`) follow each other without a gap. */
function consecutive(days: readonly DayKey[], start: number, size: number): number {
  let n = 1;
  while (n < size && start + n < days.length && days[start + n] === addDays(days[start + n - 1]!, 1)) n++;
  return n;
}
