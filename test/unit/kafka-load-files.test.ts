import { KafkaLoadFiles } from '../../src/engine/kafka-load-files.js';
import { tempDir } from '../support/files.js';

const row = (i: number) => ({
  region: 'EUS2',
  timestampMs: 1_741_500_000_000 + i,
  requestId: `id-${i}`,
  siteHeader: 'US',
  inFlight: false,
  n: 1,
});

/** Settles within `ms`, or says it hung. */
const within = <T>(p: Promise<T>, ms = 2000) =>
  Promise.race([
    p.then(
      () => 'resolved',
      (e: Error) => `rejected: ${e.message}`,
    ),
    new Promise<string>((r) => setTimeout(() => r('hung'), ms)),
  ]);

describe("KafkaLoadFiles: Kafka's rows on their way into the bigquery engine", () => {
  it('after a part fails to load, every append and finish of the batch fails at once with it, never hangs', async () => {
    const loads: boolean[] = [];
    let fail = true;
    const files = new KafkaLoadFiles({
      directory: await tempDir(),
      runId: 'test',
      rowsPerLoad: 2,
      load: async (_file, first) => {
        loads.push(first);
        if (fail) throw new Error('load job failed: backendError');
      },
      toError: (e) => new Error(`bigquery: ${(e as Error).message}`),
    });
    await files.begin();
    expect(await within(files.append([row(1), row(2)]))).toBe('rejected: bigquery: load job failed: backendError');
    expect(await within(files.append([row(3)]))).toBe('rejected: bigquery: load job failed: backendError');
    expect(await within(files.finish())).toBe('rejected: bigquery: load job failed: backendError');
    // The next batch starts clean.
    fail = false;
    await files.begin();
    expect(await within(files.append([row(4), row(5)]))).toBe('resolved');
    expect(await within(files.append([row(6)]))).toBe('resolved');
    expect(await within(files.finish())).toBe('resolved');
    expect(loads).toEqual([true, true, false]);
  });
});
