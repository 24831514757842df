import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dayWindow } from '../../src/dates.js';
import { DuckDbEngine } from '../../src/engine/duckdb-engine.js';
import { AbortedError, untilEnded } from '../../src/errors.js';
import { rejection, tempDir } from '../support/files.js';

/** A stream that, like DuckDB's interrupted result, simply ends once the signal fires. */
async function* endsQuietlyOnAbort(signal: AbortSignal, items: number): AsyncGenerator<number> {
  for (let i = 0; i < items; i++) {
    if (signal.aborted) return;
    yield i;
  }
}

async function drain<T>(source: AsyncIterable<T>, onItem: (item: T, n: number) => void = () => {}): Promise<number> {
  let n = 0;
  for await (const item of source) onItem(item, n++);
  return n;
}

describe('a stream that ends is told from a stream that was aborted', () => {
  it('passes every item of a stream that ends on its own', async () => {
    const controller = new AbortController();
    expect(await drain(untilEnded(endsQuietlyOnAbort(controller.signal, 5), controller.signal))).toBe(5);
  });

  it('throws AbortedError when a stream the signal cut short ends, instead of ending as if it were whole', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const error = await rejection(
      drain(untilEnded(endsQuietlyOnAbort(controller.signal, 5), controller.signal), (item, n) => {
        seen.push(item);
        if (n === 1) controller.abort();
      }),
    );
    expect(error).toBeInstanceOf(AbortedError);
    expect(seen).toEqual([0, 1]);
  });

  it('throws AbortedError when the signal fired after the last item but before the end was read', async () => {
    const controller = new AbortController();
    const error = await rejection(
      drain(
        untilEnded(endsQuietlyOnAbort(controller.signal, 2), controller.signal),
        (_, n) => n === 1 && controller.abort(),
      ),
    );
    expect(error).toBeInstanceOf(AbortedError);
  });
});

describe("the embedded engine's missing-id stream", () => {
  it('throws AbortedError when the run is stopped mid-stream, where DuckDB itself ends the stream early', async () => {
    const dir = await tempDir();
    const day = '2025-04-16';
    const file = path.join(dir, 'proxy.ndjson');
    const ids = 200_000;
    await writeFile(
      file,
      Array.from({ length: ids }, (_, i) =>
        JSON.stringify({ timestamp: `${day}T12:00:00Z`, request_id: `id-${i}`, site: 'US', status: 200 }),
      ).join('\n') + '\n',
    );
    const engine = await DuckDbEngine.open({
      memoryLimit: '256MB',
      threads: 1,
      tempDirectory: path.join(dir, 'spill'),
    });
    const controller = new AbortController();
    const unwatch = engine.watch(controller.signal);
    try {
      await engine.setWindows([dayWindow(day, 'UTC')]);
      const fields = {
        timestamp: 'timestamp',
        request_id: 'request_id',
        site: 'site',
        status: 'status',
        region: 'region',
      };
      await engine.loadFiles('proxy', [{ path: file, url: file, folderDay: day }], fields, ['US'], {
        lateDays: 0,
        clockSkewDays: 0,
      });
      await engine.loadEmpty('gcs');
      await engine.beginStreamed('kafka');
      await engine.finishStreamed('kafka', ['US']);
      await engine.loadEmpty('bigquery');
      await engine.joinIds([], false);
      // Whole, the stream gives every id (nothing landed).
      let whole = 0;
      for await (const chunk of engine.missingIds(day, ['US'])) whole += chunk.length;
      expect(whole).toBe(ids);
      // Stopped after its first chunk, it throws rather than ending short.
      let read = 0;
      const error = await rejection(
        (async () => {
          for await (const chunk of engine.missingIds(day, ['US'])) {
            read += chunk.length;
            if (!controller.signal.aborted) controller.abort();
          }
        })(),
      );
      expect(error).toBeInstanceOf(AbortedError);
      expect(read).toBeLessThan(ids);
    } finally {
      unwatch();
      await engine.close();
    }
  }, 60_000);
});
