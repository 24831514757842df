import { rm } from 'node:fs/promises';
import { dayWindow } from '../../src/dates.js';
import { openEmbeddedEngine } from '../support/embedded-engine.js';
import { tempDir } from '../support/files.js';
import { engineContract, finalRows, memoryTable, proxyRows } from './engine-contract.js';

// The embedded engine streams a table's rows in: the fixture's tables are served from memory.
engineContract('embedded DuckDB', async () => {
  const dir = await tempDir('parity-engine-contract-');
  const engine = await openEmbeddedEngine(dir);
  return {
    engine,
    proxy: memoryTable(proxyRows()),
    final: memoryTable(finalRows()),
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('a table row without a timestamp, in the embedded engine', () => {
  const untimed = (day: string, requestId: string | null, site: string, n: number, status?: number) => ({
    region: null,
    timestampMs: null,
    untimedDay: day,
    requestId,
    siteHeader: site,
    inFlight: false,
    n,
    ...(status !== undefined ? { status } : {}),
  });

  it("is malformed on its partition's date, for the batch's days only, and no id of it counts", async () => {
    const dir = await tempDir('parity-engine-untimed-');
    const engine = await openEmbeddedEngine(dir);
    try {
      const windows = ['2025-03-09', '2025-03-10'].map((d) => dayWindow(d, 'UTC'));
      await engine.setWindows(windows);
      const [start, end] = [windows[0]!.startMs, windows[1]!.endMs];
      const timed = {
        region: null,
        timestampMs: Date.parse('2025-03-09T10:00:00Z'),
        requestId: 'a-1',
        siteHeader: 'US',
      };
      await engine.loadTable(
        'proxy',
        memoryTable([
          { ...timed, inFlight: false, n: 1, status: 200 },
          untimed('2025-03-09', 'a-1', 'CA', 2, 200),
          untimed('2025-03-10', 'b-1', 'US', 1, 502),
          // A partition dated on no day of the batch: read by another batch, never by this one.
          untimed('2025-03-11', 'c-1', 'US', 5, 200),
        ]),
        start,
        end,
        ['US', 'CA'],
      );
      await engine.loadTable(
        'bigquery',
        memoryTable([
          { ...timed, inFlight: false, n: 1 },
          untimed('2025-03-09', 'a-1', 'US', 3),
          untimed('2025-03-12', 'z', 'US', 1),
        ]),
        start,
        end,
        ['US', 'CA'],
      );
      const proxy = (await engine.proxyCounts()).map((r) => [r.day, r.site, r.counts.lines]);
      expect(proxy).toEqual([['2025-03-09', 'US', 1]]);
      const issues = (await engine.lineIssues('proxy'))
        .filter((r) => r.counts.malformed > 0)
        .map((r) => [r.day, r.site, r.counts.malformed])
        .sort();
      expect(issues).toEqual([
        ['2025-03-09', 'CA', 2],
        ['2025-03-10', 'US', 1],
      ]);
      const landed = (await engine.streamedCounts('bigquery'))
        .map((r) => [r.day, r.site, r.kind, r.n, r.distinct])
        .sort();
      expect(landed).toEqual([
        ['2025-03-09', 'US', 'malformed', 3, 0],
        ['2025-03-09', 'US', 'record', 1, 1],
      ]);
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
