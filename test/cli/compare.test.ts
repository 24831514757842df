import { parse } from 'csv-parse/sync';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const DAY = '2025-03-09';
const rowsOf = (text: string): Record<string, string>[] => parse(text, { columns: true, record_delimiter: '\r\n' });

describe('compare from the command line', () => {
  it('refuses a compared field that is not dotted plain keys with exit 2 naming compare[i], before reading', async () => {
    const dir = await tempDir();
    const config = await writeConfig(dir, { compare: ['body.amount', "amount'); --"] });
    const out = path.join(dir, 'out');
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('compare[1]');
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('without Kafka warns that there is nothing to compare with, writes no mismatch file and leaves the column empty', async () => {
    const dir = await tempDir();
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [
      { timestamp: `${DAY}T10:00:00Z`, request_id: 'r-1', site: 'US', status: 200 },
    ]);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), [
      { timestamp: `${DAY}T10:00:01Z`, request_id: 'r-1', site: 'US', body: { amount: '1.00' } },
    ]);
    const config = await writeConfig(dir, { sites: ['US'], compare: ['body.amount'] });
    const out = path.join(dir, 'out');
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('compare: tiers.kafka is not configured');
    expect(await readdir(out)).not.toContain(`mismatch-${DAY}.csv`);
    const rows = rowsOf(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'));
    expect(rows.map((r) => [r.site, r.content_mismatch])).toEqual([
      ['US', ''],
      ['ALL', ''],
    ]);
  });
});
