import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MIX, ScenarioGenerator } from '../../src/demo/generator.js';
import { writeScenario, writeScenarioConfig } from '../../src/demo/write-scenario.js';
import { MAX_FOLDER_SCANS } from '../../src/engine/load-sql.js';
import { csvs } from '../support/cache-scenario.js';
import { reconcileRange, tempDir } from '../support/files.js';

const DAYS = ['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09'];

/**
 * A batch of many folders reads its lines in one scan, each line's folder found by its file's name
 * (queries/duckdb/read-source-joined.sql); a batch of few, one scan per folder. Both must give the
 * same reports, byte for byte: late copies in the next day's folder, out-of-window lines, malformed
 * lines (counted on their folder's date) and gzip objects included.
 */
test('a week read in one batch (one scan, folders by file name) reports exactly as day by day', async () => {
  const dir = await tempDir();
  const gen = new ScenarioGenerator({
    seed: 15,
    days: DAYS,
    timezone: 'America/Chicago',
    sites: ['US', 'CA', 'MX'],
    eventsPerDay: 500,
    mix: DEFAULT_MIX,
    malformedPerDay: 5,
    regions: ['EUS2', 'SCUS'],
  });
  const written = await writeScenario(gen, dir, { gzipShare: 0.4 });
  const week = path.join(dir, 'week.json');
  const daily = path.join(dir, 'daily.json');
  await writeScenarioConfig(week, gen, written, { engine: { batchDays: 7 } });
  await writeScenarioConfig(daily, gen, written, { engine: { batchDays: 1 } });
  // The week's batch has more folders than are read one scan each; a day's batch has no more.
  const folders = (await readdir(path.join(dir, 'proxy'))).filter((f) => f.startsWith('dt='));
  expect(folders.length).toBeGreaterThan(MAX_FOLDER_SCANS);
  const range = (config: string, out: string) => reconcileRange(config, DAYS[0]!, DAYS.at(-1)!, path.join(dir, out));
  const [one, byDay] = [await range(week, 'week'), await range(daily, 'daily')];
  expect(one.code).toBe(byDay.code);
  expect([0, 1]).toContain(one.code);
  const expected = await csvs(path.join(dir, 'daily'));
  expect(Object.keys(expected).filter((n) => n.startsWith('parity-'))).toHaveLength(DAYS.length);
  expect(await csvs(path.join(dir, 'week'))).toEqual(expected);
}, 120_000);
