import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Storage } from '@google-cloud/storage';
import { gcsPublisher } from '../../jobs/publish-gcs.js';
import { OutputError } from '../../src/errors.js';
import { createStorageClient } from '../../src/storage/gcs-store.js';
import { type FakeGcs, startFakeGcs } from '../support/fake-gcs.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { lastLogLine, runCli, tempDir, writeNdjson } from '../support/files.js';

const rec = (rid: string, ts: string, site: string, status?: number) => ({
  timestamp: ts,
  request_id: rid,
  site,
  ...(status ? { status } : {}),
});

/** Proxy and landed data for a day and each site: `landed` of the `accepted` ids land. */
async function day(dir: string, d: string, accepted: number, landed: number): Promise<void> {
  for (const site of ['US', 'CA']) {
    const ids = Array.from({ length: accepted }, (_, i) => `${d}-${site}-${i}`);
    await writeNdjson(
      path.join(dir, `proxy/dt=${d}/${site}.jsonl`),
      ids.map((id) => rec(id, `${d}T12:00:00Z`, site, 200)),
    );
    await writeNdjson(
      path.join(dir, `landed/dt=${d}/${site}.jsonl`),
      ids.slice(0, landed).map((id) => rec(id, `${d}T12:00:00Z`, site)),
    );
  }
}

/**
 * With `--out gs://…` and a `--local-out` that starts empty (the CronJob's emptyDir), the earlier
 * reports that daily's restatement check and backfill's resume compare with are in the bucket only:
 * the job brings them into --local-out before it reads anything.
 */
describe('earlier reports brought from the --out bucket', () => {
  let fake: FakeGcs;
  let storage: Storage;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    fake = await startFakeGcs();
    storage = createStorageClient({ apiEndpoint: fake.endpoint, projectId: 'parity-it' });
    dir = await tempDir();
    config = path.join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        timezone: 'UTC',
        sites: ['US', 'CA'],
        tiers: {
          proxy: { locations: ['proxy/dt={date}/'] },
          gcs: { locations: ['landed/dt={date}/'], apiEndpoint: fake.endpoint, projectId: 'parity-it' },
        },
        jobs: { lateDays: 2 },
        engine: { batchDays: 2 },
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await fake?.stop();
  });

  const daily = (bucket: string, localOut: string) =>
    runCli([
      'daily',
      ...['--config', config, '--as-of', '2025-03-10'],
      ...['--out', `gs://${bucket}/daily/`, '--local-out', localOut, '--quiet'],
    ]);

  it('daily on a fresh --local-out tells unchanged days from restated ones by the reports in the bucket', async () => {
    await storage.createBucket('parity-daily');
    for (const d of ['2025-03-07', '2025-03-08', '2025-03-09']) await day(dir, d, 50, 50);
    await day(dir, '2025-03-08', 50, 48); // two records of the 8th have not landed yet
    const first = await daily('parity-daily', path.join(dir, 'local-1'));
    expect(first.code).toBe(1); // the 8th FAILs until its records land

    // The next morning, on a new pod: nothing local. Nothing landed late: every earlier day is unchanged.
    const local2 = path.join(dir, 'local-2');
    const second = await daily('parity-daily', local2);
    expect(second.code).toBe(1);
    expect(second.stderr).not.toContain('restated');
    for (const d of ['2025-03-07', '2025-03-08', '2025-03-09'])
      expect(JSON.parse(await readFile(path.join(local2, `manifest-${d}.json`), 'utf8')).change).toBe('unchanged');

    // Then the late records land: a third fresh pod restates the 8th and only it.
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/late.jsonl'), [
      ...['US', 'CA'].flatMap((site) =>
        [48, 49].map((i) => rec(`2025-03-08-${site}-${i}`, '2025-03-08T12:00:00Z', site)),
      ),
    ]);
    const local3 = path.join(dir, 'local-3');
    const third = await daily('parity-daily', local3);
    expect(third.code).toBe(0);
    // JSON logs and --quiet: stdout stays empty, and the day's own line is a WARNING that says it.
    expect(third.stdout).toBe('');
    expect(third.stderr).toMatch(
      /"message":"2025-03-08: [^"]*\(restated: its report changed since it was last written\)"/,
    );
    expect(JSON.parse(await readFile(path.join(local3, 'manifest-2025-03-08.json'), 'utf8')).change).toBe('restated');
    expect(JSON.parse(await readFile(path.join(local3, 'manifest-2025-03-07.json'), 'utf8')).change).toBe('unchanged');
    const [remote] = await storage.bucket('parity-daily').file('daily/manifest-2025-03-08.json').download();
    expect(JSON.parse(remote.toString('utf8')).change).toBe('restated');
  }, 120_000);

  it("a re-run whose day has no missing list now (ERROR) removes the earlier run's from the bucket, as from --local-out", async () => {
    await storage.createBucket('parity-rerun');
    const d = '2025-01-15';
    await day(dir, d, 20, 18);
    const reconcile = (local: string) =>
      runCli([
        ...['reconcile', '--config', config, '--date', d],
        ...['--out', 'gs://parity-rerun/r/', '--local-out', path.join(dir, local), '--quiet'],
      ]);
    const names = async () =>
      (await storage.bucket('parity-rerun').getFiles({ prefix: 'r/' }))[0].map((f) => f.name).sort();
    expect((await reconcile('rerun-1')).code).toBe(1);
    const report = `r/report-${d}_${d}.html`;
    expect(await names()).toEqual([
      `r/manifest-${d}.json`,
      `r/missing-${d}.csv`,
      `r/parity-${d}.csv`,
      report,
      `r/windows-${d}.csv`,
    ]);
    // A cut gzip in the landed folder: the landed tier is ERROR, the day has no missing list or windows.
    await writeFile(
      path.join(dir, `landed/dt=${d}/cut.jsonl.gz`),
      gzipSync('{"timestamp":1}\n'.repeat(100)).subarray(0, 20),
    );
    const second = await reconcile('rerun-2');
    expect(second.code).toBe(3);
    expect(await readdir(path.join(dir, 'rerun-2'))).not.toContain(`missing-${d}.csv`);
    expect(await names()).toEqual([`r/manifest-${d}.json`, `r/parity-${d}.csv`, report]);
  }, 120_000);

  it('a reports bucket that does not exist stops the run before it reads a tier: exit 2 naming --out', async () => {
    const local = path.join(dir, 'local-missing');
    const run = await daily('parity-no-such-bucket', local);
    expect(run.code).toBe(2);
    // The run's last log line (JSON off a terminal) is the error, with its exit code.
    const last = lastLogLine(run.stderr);
    expect(last.exit_code).toBe(2);
    expect(String(last.message)).toBe(
      '--out: bucket "parity-no-such-bucket" does not exist (404) — check the --out location',
    );
    // Nothing left behind: the --local-out folder the run made is removed again (before 0.3.7 it stayed, empty).
    await expect(readdir(local)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 60_000);

  it('backfill on a fresh --local-out skips the days whose reports are in the bucket', async () => {
    await storage.createBucket('parity-backfill');
    for (const d of ['2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04']) await day(dir, d, 20, 20);
    const backfill = (from: string, to: string, localOut: string) =>
      runCli([
        'backfill',
        ...['--config', config, '--from', from, '--to', to],
        ...['--out', 'gs://parity-backfill/history/', '--local-out', localOut, '--format', 'table'],
      ]);
    expect((await backfill('2025-02-01', '2025-02-02', path.join(dir, 'bf-1'))).code).toBe(0);
    const [published] = await storage.bucket('parity-backfill').file('history/manifest-2025-02-01.json').download();

    const local2 = path.join(dir, 'bf-2');
    const second = await backfill('2025-02-01', '2025-02-04', local2);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('skipped 2 current days');
    const manifests = (await readdir(local2)).filter((f) => f.startsWith('manifest-')).sort();
    expect(manifests).toEqual(
      ['2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04'].map((d) => `manifest-${d}.json`),
    );
    // The skipped days' reports are the first run's bytes, brought from the bucket, not made again.
    expect((await readFile(path.join(local2, 'manifest-2025-02-01.json'))).equals(published)).toBe(true);
    const [after] = await storage.bucket('parity-backfill').file('history/manifest-2025-02-01.json').download();
    expect(after.equals(published)).toBe(true);
  }, 120_000);

  it('a report the bucket refuses is exit 5, and its day has no manifest there until a run publishes it whole', async () => {
    const proxy = await startFaultProxy(fake.endpoint);
    try {
      await storage.createBucket('parity-refused');
      await day(dir, '2025-01-20', 20, 20);
      const base = JSON.parse(await readFile(config, 'utf8')) as { tiers: { gcs: object } };
      const refusing = path.join(dir, 'refusing.json');
      const gcs = { ...base.tiers.gcs, apiEndpoint: proxy.endpoint };
      await writeFile(refusing, JSON.stringify({ ...base, tiers: { ...base.tiers, gcs } }));
      const local = path.join(dir, 'refused-out');
      const backfill = (...more: string[]) =>
        runCli([
          'backfill',
          ...['--config', refusing, '--from', '2025-01-20', '--to', '2025-01-20'],
          ...['--out', 'gs://parity-refused/x/', '--local-out', local, ...more],
        ]);
      expect((await backfill()).code).toBe(0);
      const bucket = storage.bucket('parity-refused');
      const names = async () => (await bucket.getFiles({ prefix: 'x/' }))[0].map((f) => f.name).sort();
      expect(await names()).toContain('x/manifest-2025-01-20.json');
      // The day again: the run's lease (taken, then renewed before the day is written) and its lists are
      // taken, its report refused (403, not retried).
      proxy.failUploadsAfter(4, 403);
      const refused = await backfill('--force');
      expect(refused.code).toBe(5);
      const last = lastLogLine(refused.stderr);
      expect(last.exit_code).toBe(5);
      expect(last.message).toContain('cannot write gs://parity-refused/x/parity-2025-01-20.csv');
      expect(last.message).toContain('in the bucket it has no manifest until a run publishes it whole');
      expect(await names()).not.toContain('x/manifest-2025-01-20.json');
      // The next run (no --force) finds the day unpublished and publishes it whole.
      proxy.reset();
      const resumed = await backfill('--format', 'table');
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).not.toContain('skipped');
      const [manifest] = await bucket.file('x/manifest-2025-01-20.json').download();
      const [parity] = await bucket.file('x/parity-2025-01-20.csv').download();
      const sha = (JSON.parse(manifest.toString()) as { files: { parity: { sha256: string } } }).files.parity.sha256;
      expect(createHash('sha256').update(parity).digest('hex')).toBe(sha);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('a resumed backfill redoes a day its --local-out holds whole but the bucket never received whole', async () => {
    await storage.createBucket('parity-resume');
    for (const d of ['2025-01-10', '2025-01-11']) await day(dir, d, 20, 20);
    const local = path.join(dir, 'resume-out');
    const backfill = () =>
      runCli([
        'backfill',
        ...['--config', config, '--from', '2025-01-10', '--to', '2025-01-11'],
        ...['--out', 'gs://parity-resume/r/', '--local-out', local, '--format', 'table'],
      ]);
    expect((await backfill()).code).toBe(0);
    // As a run stopped (or refused) while publishing the 11th leaves the bucket: its lists, no report, no manifest.
    const bucket = storage.bucket('parity-resume');
    for (const name of ['r/parity-2025-01-11.csv', 'r/manifest-2025-01-11.json']) await bucket.file(name).delete();
    const resumed = await backfill();
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('skipped 1 current day');
    expect(resumed.stderr).toContain('moved 2 report files that gs://parity-resume/r/ does not hold');
    const [names] = await bucket.getFiles({ prefix: 'r/' });
    expect(
      names
        .map((f) => f.name)
        .filter((n) => n.includes('2025-01-11'))
        .sort(),
    ).toEqual([
      'r/manifest-2025-01-11.json',
      'r/missing-2025-01-11.csv',
      'r/parity-2025-01-11.csv',
      'r/report-2025-01-10_2025-01-11.html',
      'r/windows-2025-01-11.csv',
    ]);
  }, 120_000);

  it('a file deleted from the bucket is restored by the next backfill, though --local-out still holds it', async () => {
    await storage.createBucket('parity-deleted');
    for (const d of ['2025-01-20', '2025-01-21', '2025-01-22']) await day(dir, d, 20, 20);
    const local = path.join(dir, 'deleted-out');
    const backfill = () =>
      runCli([
        'backfill',
        ...['--config', config, '--from', '2025-01-20', '--to', '2025-01-22'],
        ...['--out', 'gs://parity-deleted/d/', '--local-out', local, '--format', 'table'],
      ]);
    expect((await backfill()).code).toBe(0);
    const bucket = storage.bucket('parity-deleted');
    const [before] = await bucket.file('d/parity-2025-01-21.csv').download();
    await bucket.file('d/parity-2025-01-21.csv').delete();
    await bucket.file('d/missing-2025-01-22.csv').delete();
    const again = await backfill();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('skipped 1 current day');
    expect(again.stderr).toContain('moved 2 report files that gs://parity-deleted/d/ does not hold');
    const [restored] = await bucket.file('d/parity-2025-01-21.csv').download();
    expect(restored.equals(before)).toBe(true);
    expect((await bucket.file('d/missing-2025-01-22.csv').exists())[0]).toBe(true);
    // The local copies the bucket lacked were moved aside, not removed, into a folder of the run's own.
    const [aside, ...more] = await readdir(path.join(local, 'not-in-bucket'));
    expect(more).toEqual([]);
    expect((await readdir(path.join(local, 'not-in-bucket', aside!))).sort()).toEqual([
      'missing-2025-01-22.csv',
      'parity-2025-01-21.csv',
    ]);
    // Moved again by a later run, a file of the same name does not replace the first one moved.
    await writeFile(path.join(local, 'parity-2025-01-21.csv'), "an engineer's own\n");
    await bucket.file('d/parity-2025-01-21.csv').delete();
    expect((await backfill()).code).toBe(0);
    const folders = await readdir(path.join(local, 'not-in-bucket'));
    expect(folders).toHaveLength(2);
    const kept = await Promise.all(
      folders.map((f) => readFile(path.join(local, 'not-in-bucket', f, 'parity-2025-01-21.csv'), 'utf8')),
    );
    expect(kept).toContain("an engineer's own\n");
    expect(kept.some((k) => k.startsWith('date,'))).toBe(true);
  }, 120_000);

  it("another prefix's reports in a shared --local-out judge nothing: every day of an empty prefix is new", async () => {
    await storage.createBucket('parity-shared');
    for (const d of ['2025-03-07', '2025-03-08', '2025-03-09']) await day(dir, d, 50, 50);
    const shared = path.join(dir, 'shared-out');
    const run = (prefix: string) =>
      runCli([
        'daily',
        ...['--config', config, '--as-of', '2025-03-10'],
        ...['--out', `gs://parity-shared/${prefix}/`, '--local-out', shared, '--quiet'],
      ]);
    expect((await run('x')).code).toBe(0);
    // The same days, a record more landed: judged against prefix x's reports, the days would read restated.
    await writeNdjson(path.join(dir, 'landed/dt=2025-03-09/extra.jsonl'), [
      rec('extra-1', '2025-03-08T12:00:00Z', 'US'),
    ]);
    const second = await run('z');
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain('restated');
    for (const d of ['2025-03-07', '2025-03-08', '2025-03-09']) {
      const [m] = await storage.bucket('parity-shared').file(`z/manifest-${d}.json`).download();
      expect(JSON.parse(m.toString('utf8')).change).toBe('new');
    }
  }, 120_000);

  it("a skipped day counts with its report's rows, not with an edited manifest's status", async () => {
    await storage.createBucket('parity-edited');
    await day(dir, '2025-01-25', 20, 10);
    const local = path.join(dir, 'edited-out');
    const backfill = () =>
      runCli([
        'backfill',
        ...['--config', config, '--from', '2025-01-25', '--to', '2025-01-25'],
        ...['--out', 'gs://parity-edited/e/', '--local-out', local, '--format', 'csv'],
      ]);
    expect((await backfill()).code).toBe(1);
    const file = storage.bucket('parity-edited').file('e/manifest-2025-01-25.json');
    const [m] = await file.download();
    await file.save(m.toString('utf8').replace('"status": "FAIL"', '"status": "PASS"'));
    const again = await backfill();
    expect(again.stdout).toContain('2025-01-25,FAIL');
    expect(again.code).toBe(1);
  }, 120_000);
});

/** The uploads of a gs:// run, on fake-gcs-server: each only while the run holds its output. */
describe('publishing a day to the --out bucket', () => {
  let fake: FakeGcs;
  let storage: Storage;

  beforeAll(async () => {
    fake = await startFakeGcs();
    storage = createStorageClient({ apiEndpoint: fake.endpoint, projectId: 'parity-it' });
    await storage.createBucket('parity-publish');
  }, 120_000);

  afterAll(async () => {
    await fake?.stop();
  });

  it("uploads nothing once the lease was taken over (a frozen run resumed): exit 5, the other run's day stands", async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'parity-2025-01-05.csv');
    await writeFile(file, "the frozen run's older reading\n");
    const bucket = storage.bucket('parity-publish');
    await bucket.file('p/parity-2025-01-05.csv').save("the other run's newer reading\n");
    const taken = new OutputError('--out', 'lease', "this run's lease on --out was taken over by another run");
    const publish = gcsPublisher(storage, 'parity-publish', 'p/', [
      { check: async () => {} },
      { check: () => Promise.reject(taken) },
    ]);
    await expect(publish([file])).rejects.toBe(taken);
    const [kept] = await bucket.file('p/parity-2025-01-05.csv').download();
    expect(kept.toString()).toBe("the other run's newer reading\n");
    // Held, it uploads.
    await gcsPublisher(storage, 'parity-publish', 'p/', [{ check: async () => {} }])([file]);
    const [now] = await bucket.file('p/parity-2025-01-05.csv').download();
    expect(now.toString()).toBe("the frozen run's older reading\n");
  }, 60_000);
});
