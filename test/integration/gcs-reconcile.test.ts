import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import { daysInRange } from '../../src/dates.js';
import { DEFAULT_MIX, ScenarioGenerator } from '../../src/demo/generator.js';
import { writeScenario, writeScenarioConfig } from '../../src/demo/write-scenario.js';
import { createStorageClient } from '../../src/storage/gcs-store.js';
import { type FakeGcs, startFakeGcs } from '../support/fake-gcs.js';
import { runCli, tempDir } from '../support/files.js';

/**
 * The contract suite for storage backends: the same generated fixture, counted from local files
 * and from GCS (fake-gcs-server, the real @google-cloud/storage client), must give byte-identical
 * reports.
 */
describe('the gcs tier read from GCS', () => {
  const days = daysInRange('2025-03-08', '2025-03-10');
  let dir: string;
  let fake: FakeGcs;
  let gen: ScenarioGenerator;

  beforeAll(async () => {
    dir = await tempDir();
    gen = new ScenarioGenerator({
      seed: 77,
      days,
      timezone: 'America/Chicago',
      sites: ['US', 'CA', 'MX'],
      eventsPerDay: 800,
      mix: DEFAULT_MIX,
      malformedPerDay: 3,
      regions: ['EUS2', 'SCUS'],
    });
    const written = await writeScenario(gen, dir, { gzipShare: 0.5 });
    await writeScenarioConfig(path.join(dir, 'local.json'), gen, written);
    // Each folder below landed/ is a bucket: audit-api-logs-us-prod, …
    fake = await startFakeGcs({ dataDir: path.join(dir, 'landed'), backend: 'filesystem' });
    await writeScenarioConfig(path.join(dir, 'gcs.json'), gen, {
      ...written,
      landedLocations: ['us', 'ca', 'mx'].map((s) => `gs://audit-api-logs-${s}-prod/dt={date}/`),
    });
    const gcsConfig = JSON.parse(await readFile(path.join(dir, 'gcs.json'), 'utf8'));
    gcsConfig.tiers.gcs.apiEndpoint = fake.endpoint;
    gcsConfig.tiers.gcs.projectId = 'parity-it';
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(dir, 'gcs.json'), JSON.stringify(gcsConfig)));
  }, 300_000);

  afterAll(async () => {
    await fake?.stop();
  });

  it('gives byte-identical reports from local files and from GCS', async () => {
    const local = await runReconcile({
      config: await loadConfig(path.join(dir, 'local.json')),
      days,
      outDir: path.join(dir, 'out-local'),
    });
    const gcs = await runReconcile({
      config: await loadConfig(path.join(dir, 'gcs.json')),
      days,
      outDir: path.join(dir, 'out-gcs'),
    });
    expect(gcs.errors).toEqual([]);
    expect(gcs.exitCode).toBe(local.exitCode);
    const files = (await readdir(path.join(dir, 'out-local'))).sort();
    expect(files).toHaveLength(days.length * 3); // parity, missing and windows per day
    expect((await readdir(path.join(dir, 'out-gcs'))).sort()).toEqual(files);
    for (const f of files) {
      const [a, b] = await Promise.all([
        readFile(path.join(dir, 'out-local', f)),
        readFile(path.join(dir, 'out-gcs', f)),
      ]);
      expect([f, a.equals(b)]).toEqual([f, true]);
    }
    // And the numbers are the injected ones, not merely equal to each other.
    const all = (await readFile(path.join(dir, 'out-gcs', 'parity-2025-03-09.csv'), 'utf8'))
      .split('\r\n')
      .find((l) => l.includes(',ALL,'))!;
    const expectedRecords = [...gen.expected.rows.get('2025-03-09')!.values()].reduce(
      (n, r) => n + (r.gcs_records ?? 0),
      0,
    );
    expect(all.split(',')[8]).toBe(String(expectedRecords));
  }, 120_000);

  it('a bucket that does not exist makes the tier ERROR and names the bucket: exit 3', async () => {
    const config = await loadConfig(path.join(dir, 'gcs.json'));
    config.tiers.gcs!.locations.push({
      scheme: 'gs',
      bucket: 'audit-api-logs-cx-prod',
      template: 'dt={date}/',
      dated: true,
    });
    const result = await runReconcile({ config, days: ['2025-03-09'], outDir: path.join(dir, 'out-missing') });
    expect(result.exitCode).toBe(3);
    expect(result.errors.join('\n')).toContain('audit-api-logs-cx-prod');
    expect(result.days[0]!.rows.every((r) => r.status === 'ERROR' && r.gcs_records === null)).toBe(true);
  }, 60_000);

  it('--out gs://bucket/prefix/ uploads the reports as well as writing them locally', async () => {
    const storage = createStorageClient({ apiEndpoint: fake.endpoint, projectId: 'parity-it' });
    await storage.createBucket('parity-reports');
    const localOut = path.join(dir, 'out-upload');
    const run = await runCli([
      'reconcile',
      '--config',
      path.join(dir, 'gcs.json'),
      '--date',
      '2025-03-09',
      '--out',
      'gs://parity-reports/daily/',
      '--local-out',
      localOut,
      '--quiet',
    ]);
    expect([0, 1]).toContain(run.code);
    const [objects] = await storage.bucket('parity-reports').getFiles({ prefix: 'daily/' });
    expect(objects.map((o) => o.name).sort()).toEqual([
      'daily/manifest-2025-03-09.json',
      'daily/missing-2025-03-09.csv',
      'daily/parity-2025-03-09.csv',
      'daily/report-2025-03-09_2025-03-09.html',
      'daily/windows-2025-03-09.csv',
    ]);
    const [remote] = await storage.bucket('parity-reports').file('daily/parity-2025-03-09.csv').download();
    expect(remote.equals(await readFile(path.join(localOut, 'parity-2025-03-09.csv')))).toBe(true);
  }, 60_000);
});
