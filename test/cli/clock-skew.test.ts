import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCsv, runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const DAY = '2025-03-09';
const BEFORE = '2025-03-08';
const record = (rid: string, status?: number) => ({
  timestamp: `${DAY}T00:00:05Z`,
  request_id: rid,
  site: 'US',
  ...(status ? { status } : {}),
});

/** A day whose one landed record lies in the folder of the UTC date before it, as a writer ahead of time leaves it. */
async function skewedDay(dir: string): Promise<void> {
  await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [record('a', 200)]);
  await writeNdjson(path.join(dir, `landed/dt=${BEFORE}/a.jsonl`), [record('a')]);
}

const tiers = (clockSkewDays?: number) => ({
  proxy: { locations: ['proxy/dt={date}/'] },
  gcs: { locations: ['landed/dt={date}/'], ...(clockSkewDays === undefined ? {} : { clockSkewDays }) },
});

describe('the folder before a day', () => {
  it('is not read by default: a record cannot be written before it happened, and no warning names it', async () => {
    const dir = await tempDir();
    await skewedDay(dir);
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US'], tiers: tiers() });
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    const us = parseCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8')).find((r) => r.site === 'US');
    expect(us).toMatchObject({ proxy_requests: '1', gcs_records: '0' });
    expect(run.stderr).not.toContain(`dt=${BEFORE}`);
  });

  it('is read with tiers.<tier>.clockSkewDays: 1, and the record counts for its own day', async () => {
    const dir = await tempDir();
    await skewedDay(dir);
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US'], tiers: tiers(1) });
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    expect(run.code).toBe(0);
    const us = parseCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8')).find((r) => r.site === 'US');
    expect(us).toMatchObject({ proxy_requests: '1', gcs_records: '1', status: 'PASS' });
  });

  it('a clockSkewDays above 1 is a config error naming the key (exit 2)', async () => {
    const dir = await tempDir();
    const config = await writeConfig(dir, { sites: ['US'], tiers: tiers(2) });
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', path.join(dir, 'out')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('tiers.gcs.clockSkewDays');
  });
});
