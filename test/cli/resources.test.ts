import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const DAY = '2025-03-09';

describe('an engine that runs out of its memory limit', () => {
  it('exits 6 naming engine.memoryLimit and engine.batchDays, not as a bug, and commits no report', async () => {
    const dir = await tempDir();
    const ids = Array.from({ length: 300_000 }, (_, i) => `id-${String(i).padStart(7, '0')}-${'p'.repeat(40)}`);
    const at = `${DAY}T10:00:00Z`;
    await writeNdjson(
      path.join(dir, `proxy/dt=${DAY}/a.jsonl`),
      ids.map((id) => ({ timestamp: at, request_id: id, site: 'US', status: 200 })),
    );
    await writeNdjson(
      path.join(dir, `landed/dt=${DAY}/a.jsonl`),
      ids.map((id) => ({ timestamp: at, request_id: id, site: 'US' })),
    );
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US'], engine: { memoryLimit: '8MiB' } });
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out, '--log-format', 'json']);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('engine.memoryLimit');
    expect(run.stderr).toContain('(8MiB)');
    expect(run.stderr).toContain('engine.batchDays');
    expect(run.stderr).not.toContain('a bug');
    const written = await readdir(out).catch(() => [] as string[]);
    expect(written.filter((f) => f.startsWith('parity-') || f.startsWith('missing-') || f.endsWith('.tmp'))).toEqual(
      [],
    );
  });

  it('reads a batch that ran out of memory again a day at a time before giving up, on the real engine', async () => {
    const dir = await tempDir();
    const days = ['2025-03-09', '2025-03-10'];
    for (const day of days) {
      const ids = Array.from({ length: 100_000 }, (_, i) => `${day}-${String(i).padStart(7, '0')}`);
      const at = `${day}T10:00:00Z`;
      await writeNdjson(
        path.join(dir, `proxy/dt=${day}/a.jsonl`),
        ids.map((id) => ({ timestamp: at, request_id: id, site: 'US', status: 200 })),
      );
    }
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US'], engine: { memoryLimit: '8MiB', batchDays: 7 } });
    const run = await runCli([
      'reconcile',
      '--config',
      config,
      '--from',
      days[0]!,
      '--to',
      days[1]!,
      '--out',
      out,
      '--log-format',
      'json',
    ]);
    const split = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { message: string; days?: number; retry_batch_days?: number })
      .filter((l) => l.retry_batch_days !== undefined);
    expect(split).toEqual([
      expect.objectContaining({
        days: 2,
        retry_batch_days: 1,
        message: expect.stringContaining('2025-03-09..2025-03-10') as unknown as string,
      }),
    ]);
    // One day alone still does not fit in 8MiB: the run stops there with exit 6, and nothing half-written stays.
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('engine.memoryLimit');
    const written = await readdir(out).catch(() => [] as string[]);
    expect(written.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
