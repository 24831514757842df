import { finish } from '../../jobs/finish.js';
import { parseConfig } from '../../src/config.js';
import { PARITY_HEADER, type ParityRow } from '../../src/domain.js';
import { silentLogger } from '../../src/log/logger.js';
import type { HistoryWriter } from '../../src/report/history-writer.js';
import { tempDir } from '../support/files.js';

const RUN = {
  asOf: '2025-03-11T06:00:00.000Z',
  version: '0.3.2',
  revision: null,
  configHash: 'h',
  command: 'backfill',
};

/** A parity row with every column empty but those given. */
function row(over: Partial<ParityRow>): ParityRow {
  const r = Object.fromEntries(PARITY_HEADER.map((c) => [c, null])) as unknown as ParityRow;
  return Object.assign(r, over);
}

// The history writer is the BigQuery adapter (tested on the emulator in test/integration); here only what
// the run hands it: a resumed backfill's skipped days too, each with the as-of of the run that made it.
test('a resumed backfill writes history rows for its skipped days too, each with the as-of of the run that made it', async () => {
  const config = parseConfig(
    {
      sites: ['US'],
      tiers: {
        proxy: { locations: ['proxy/dt={date}/'] },
        bigquery: { table: 'my-proj.audit.landed', history: { table: 'my-proj.ops.parity_history' } },
      },
    },
    '/base',
  );
  const written: Record<string, unknown>[][] = [];
  const history: HistoryWriter = {
    writeHistory: (_table, rows) => {
      written.push(rows);
      return Promise.resolve();
    },
  } as HistoryWriter;
  const day = (date: string, status: 'PASS' | 'FAIL') => [
    row({ date, site: 'US', status, missing: status === 'FAIL' ? 3 : 0 }),
    row({ date, site: 'ALL', status, missing: status === 'FAIL' ? 3 : 0 }),
  ];
  const outDir = await tempDir();
  const code = await finish({
    result: {
      days: [{ day: '2025-03-09', rows: day('2025-03-09', 'PASS'), parityFile: 'p', missingFile: null, change: 'new' }],
      exitCode: 1,
      errors: [],
      earlier: [
        { day: '2025-03-08', rows: day('2025-03-08', 'FAIL'), asOf: '2025-03-10T06:00:00.000Z', worstWindow: null },
      ],
    },
    config,
    command: 'backfill',
    run: RUN,
    out: outDir,
    outDir,
    format: null,
    onlyFailing: false,
    json: false,
    log: silentLogger,
    history,
    env: {},
    signal: new AbortController().signal,
  });
  expect(code).toBe(1);
  expect(written).toHaveLength(1);
  expect(written[0]!.map((r) => [r.date, r.site, r.status, r.as_of])).toEqual([
    ['2025-03-09', 'US', 'PASS', RUN.asOf],
    ['2025-03-09', 'ALL', 'PASS', RUN.asOf],
    ['2025-03-08', 'US', 'FAIL', '2025-03-10T06:00:00.000Z'],
    ['2025-03-08', 'ALL', 'FAIL', '2025-03-10T06:00:00.000Z'],
  ]);
});
