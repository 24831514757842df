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
});
