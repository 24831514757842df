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
const day = (date: string, status: 'PASS' | 'FAIL', sites: string[] = ['US']) => [
  ...sites.map((site) => row({ date, site, status, missing: status === 'FAIL' ? 3 : 0 })),
  row({ date, site: 'ALL', status, missing: status === 'FAIL' ? 3 : 0 }),
];

/** finish() with a history writer that keeps what it is handed, and a logger that keeps its warnings. */
async function finishWithHistory(sites: string[], result: Parameters<typeof finish>[0]['result']) {
  const config = parseConfig(
    {
      sites,
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
      return Promise.resolve([]);
    },
  } as HistoryWriter;
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
  const outDir = await tempDir();
  const code = await finish({
    result,
    config,
    command: 'backfill',
    run: RUN,
    out: outDir,
    outDir,
    format: null,
    onlyFailing: false,
    alert: true,
    json: false,
    log,
    history,
    env: {},
    signal: new AbortController().signal,
  });
  return { code, written, warnings };
}

test('a resumed backfill writes history rows for its skipped days too, each with the as-of of the run that made it', async () => {
  const { code, written } = await finishWithHistory(['US'], {
    days: [{ day: '2025-03-09', rows: day('2025-03-09', 'PASS'), parityFile: 'p', missingFile: null, change: 'new' }],
    exitCode: 1,
    errors: [],
    earlier: [
      { day: '2025-03-08', rows: day('2025-03-08', 'FAIL'), asOf: '2025-03-10T06:00:00.000Z', worstWindow: null },
    ],
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

test("a day reported for some sites only (--sites) writes no history rows: they would replace the whole day's", async () => {
  const { written, warnings } = await finishWithHistory(['US', 'CA'], {
    days: [
      { day: '2025-03-09', rows: day('2025-03-09', 'PASS', ['US']), parityFile: 'p', missingFile: null, change: 'new' },
      {
        day: '2025-03-10',
        rows: day('2025-03-10', 'PASS', ['US', 'CA']),
        parityFile: 'p',
        missingFile: null,
        change: 'new',
      },
    ],
    exitCode: 0,
    errors: [],
  });
  expect(written.map((rows) => rows.map((r) => [r.date, r.site]))).toEqual([
    [
      ['2025-03-10', 'US'],
      ['2025-03-10', 'CA'],
      ['2025-03-10', 'ALL'],
    ],
  ]);
  expect(warnings).toEqual([expect.stringContaining('history: 2025-03-09 not written to my-proj.ops.parity_history')]);
});
