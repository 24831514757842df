/**
 * npm run bench: reconcile a production-sized day and compare it, in the same run, with the
 * cheapest possible pass over the same bytes (`cat`/`zcat` piped to `wc -l`). Prints ratios, not
 * absolute times: these machines are noisy. Options: --events N (default 2,000,000), --scale10
 * to add the 10× memory case, --runs N (default 3, the median is kept; 1 for a quick look);
 * --range-events N (default 1,000,000 a day) sizes the 7-day range, whose cases are the range, a
 * one-day run inside it (against the folders that day needs) and daily with lateDays 3, warm cache
 * against cold; --no-local, --no-range, --no-gcs, --no-kafka, --no-bigquery skip a case;
 * --bq-small/--bq-large N set the engine-bigquery sizes (1M, 5M); --ref COMMIT (default: the commit
 * before loss windows) times the same day with a build of that commit, --no-ref skips it;
 * --compare-events N (500,000) sizes the compare case (two real brokers), --no-compare skips it. Each case prints its ratio to the
 * floor measured in the same run, and its peak RSS; the 1x and 10x days also the engine's peak spill.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { DEFAULT_MIX, ScenarioGenerator } from '../src/demo/generator.js';
import { writeScenario, writeScenarioConfig } from '../src/demo/write-scenario.js';

// Run from source by tsx (bench/run.ts): the repository root is the folder above bench/.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/jobs/main.js');
const DATA = path.join(ROOT, 'bench/.data');
const DAY = '2025-03-09';
/** The generator's options every bench case shares: three sites, two regions, the default mix of causes. */
const scenario = (seed: number, days: string[], eventsPerDay: number, malformedPerDay: number) =>
  new ScenarioGenerator({
    seed,
    days,
    timezone: 'UTC',
    sites: ['US', 'CA', 'MX'],
    eventsPerDay,
    mix: DEFAULT_MIX,
    malformedPerDay,
    regions: ['EUS2', 'SCUS'],
  });
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};

interface Measured {
  seconds: number;
  peakRssMiB: number;
}

/** Bytes below a folder now (files only; a file that goes while it is walked counts nothing). */
async function bytesBelow(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (e.isFile())
      total += await stat(path.join(e.parentPath, e.name)).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/**
 * Runs a command, sampling its peak resident memory (VmHWM) from /proc while it runs, and, given
 * `spillDir`, the peak size of that folder (the engine's temp directory: what it spilled).
 */
function measure(
  cmd: string,
  argv: string[],
  cwd = ROOT,
  spillDir?: string,
): Promise<Measured & { code: number | null; stderr: string; peakSpillMiB: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let peakKiB = 0;
    let peakSpill = 0;
    let polling = false;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sample = setInterval(() => {
      readFile(`/proc/${child.pid}/status`, 'utf8')
        .then((s) => {
          const m = /VmHWM:\s+(\d+)/.exec(s);
          if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
        })
        .catch(() => {});
      if (spillDir && !polling) {
        polling = true;
        void bytesBelow(spillDir).then((b) => {
          peakSpill = Math.max(peakSpill, b);
          polling = false;
        });
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      resolve({
        code,
        stderr,
        seconds: Number(process.hrtime.bigint() - t0) / 1e9,
        peakRssMiB: peakKiB / 1024,
        peakSpillMiB: peakSpill / 1048576,
      });
    });
  });
}

/** The argv of one quiet reconcile of the bench's day: a CLI, its config and its --out. */
const oneDay = (cli: string, config: string, out: string, day = DAY) => [
  cli,
  'reconcile',
  '--config',
  config,
  '--date',
  day,
  '--out',
  out,
  '--quiet',
];

async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /\.jsonl(\.gz)?$/.test(e.name)) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

/** Generates (once, cached under bench/.data) a day of `events` events with every cause present. */
async function dataset(events: number): Promise<{ dir: string; config: string; files: string[] }> {
  const dir = path.join(DATA, `day-${events}`);
  const marker = path.join(dir, '.complete');
  const config = path.join(dir, 'config.json');
  if (!existsSync(marker)) {
    await rm(dir, { recursive: true, force: true });
    process.stderr.write(`generating ${events.toLocaleString()} events into ${dir} …\n`);
    const gen = scenario(42, [DAY], events, 100);
    const written = await writeScenario(gen, dir, { gzipShare: 0.4 });
    await writeScenarioConfig(config, gen, written, { engine: { batchDays: 1 } });
    await writeFile(
      marker,
      JSON.stringify({ proxyLines: written.proxyLines, landedLines: written.landedLines, files: written.files }),
    );
  }
  return { dir, config, files: await filesBelow(dir) };
}

/**
 * Ten times a day without generating it again: every object of the 1x day copied `factor` times
 * with its request ids prefixed by the copy number, so ids stay distinct and every cause scales.
 */
async function scaledDataset(
  events: number,
  factor: number,
): Promise<{ dir: string; config: string; files: string[] }> {
  const base = await dataset(events);
  const dir = path.join(DATA, `day-${events}-x${factor}`);
  const marker = path.join(dir, '.complete');
  if (!existsSync(marker)) {
    await rm(dir, { recursive: true, force: true });
    process.stderr.write(`copying the ${events.toLocaleString()}-event day ${factor} times into ${dir} …\n`);
    for (const file of base.files) {
      const rel = path.relative(base.dir, file);
      for (let k = 0; k < factor; k++) {
        const target = path.join(dir, path.dirname(rel), `x${k}-${path.basename(rel)}`);
        await mkdir(path.dirname(target), { recursive: true });
        // Whole lines only, so that a marker cut in two by a chunk boundary is never missed.
        let rest = '';
        const prefix = new Transform({
          transform(chunk: Buffer, _enc, done) {
            const all = rest + chunk.toString('latin1');
            const cut = all.lastIndexOf('\n') + 1;
            rest = all.slice(cut);
            done(null, Buffer.from(all.slice(0, cut).replaceAll('"request_id":"', `"request_id":"x${k}-`), 'latin1'));
          },
          flush(done) {
            done(null, Buffer.from(rest.replaceAll('"request_id":"', `"request_id":"x${k}-`), 'latin1'));
          },
        });
        const gz = file.endsWith('.gz');
        await pipeline([
          createReadStream(file),
          ...(gz ? [createGunzip()] : []),
          prefix,
          ...(gz ? [createGzip({ level: 1 })] : []),
          createWriteStream(target),
        ]);
      }
    }
    await writeFile(path.join(dir, 'config.json'), await readFile(base.config, 'utf8'));
    await writeFile(marker, 'ok');
  }
  return { dir, config: path.join(dir, 'config.json'), files: await filesBelow(dir) };
}

/** The 7-day range: its first day, and the days (UTC) in order. */
const RANGE_DAYS = ['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09'];

/** Generates (once, cached) seven days of `perDay` events each, as one scenario: late copies cross midnights. */
async function rangeDataset(perDay: number): Promise<{ dir: string; config: string; files: string[] }> {
  const dir = path.join(DATA, `range-${perDay}`);
  const marker = path.join(dir, '.complete');
  const config = path.join(dir, 'config.json');
  if (!existsSync(marker)) {
    await rm(dir, { recursive: true, force: true });
    process.stderr.write(`generating 7 days of ${perDay.toLocaleString()} events into ${dir} …\n`);
    const gen = scenario(7, RANGE_DAYS, perDay, 100);
    const written = await writeScenario(gen, dir, { gzipShare: 0.4 });
    await writeScenarioConfig(config, gen, written, { jobs: { lateDays: 3 } });
    await writeFile(marker, 'ok');
  }
  return { dir, config, files: await filesBelow(dir) };
}

/** The floor over `files`: `cat` of the plain ones and `zcat` of the gzip ones, each piped to `wc -l`. */
async function floorOf(files: string[], name: string): Promise<{ pipe: string; lines: string }> {
  const listFile = path.join(DATA, `.floor-${name}`);
  await writeFile(`${listFile}.plain`, files.filter((f) => !f.endsWith('.gz')).join('\n') + '\n');
  await writeFile(`${listFile}.gz`, files.filter((f) => f.endsWith('.gz')).join('\n') + '\n');
  const pipe = `xargs -a ${JSON.stringify(listFile + '.plain')} cat | wc -l; xargs -a ${JSON.stringify(listFile + '.gz')} zcat | wc -l`;
  const lines = spawnSync('sh', ['-c', pipe], { encoding: 'utf8' }).stdout.trim().split('\n').join(' + ');
  return { pipe, lines };
}

interface Ratio {
  ratio: number;
  seconds: number;
  pipe: number;
  rss: number;
  lines: string;
}

/** `runs` rounds of the floor then the command; medians, and the command's peak RSS over all rounds. */
async function against(floor: { pipe: string; lines: string }, argv: string[], runs: number): Promise<Ratio> {
  const pipes: number[] = [];
  const times: number[] = [];
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    pipes.push((await measure('sh', ['-c', floor.pipe])).seconds);
    const r = await measure(process.execPath, [CLI, ...argv, '--quiet']);
    if (r.code !== 0 && r.code !== 1) throw new Error(`${argv[0]} exited ${r.code}: ${r.stderr}`);
    times.push(r.seconds);
    rss = Math.max(rss, r.peakRssMiB);
  }
  const [seconds, pipe] = [median(times), median(pipes)];
  return { ratio: seconds / pipe, seconds, pipe, rss, lines: floor.lines };
}

/** Files whose folder is one of `days` (dt=YYYY-MM-DD). */
const inFolders = (files: string[], days: string[]) =>
  files.filter((f) => days.some((d) => f.includes(`${path.sep}dt=${d}${path.sep}`)));

const nextDays = (day: string, n: number) =>
  Array.from({ length: n + 1 }, (_, i) =>
    new Date(Date.parse(`${day}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10),
  );

/**
 * The 7-day range, a one-day run of a day inside it (its floor: the folders that day needs, its own
 * and lateArrivalDays (1) after), and daily with lateDays 3, cold then warm, when the config takes a cache.
 */
async function caseRange(perDay: number, runs: number) {
  const { dir, config, files } = await rangeDataset(perDay);
  const out = path.join(DATA, 'out-range');
  const range = await against(
    await floorOf(files, 'range'),
    ['reconcile', '--config', config, '--from', RANGE_DAYS[0]!, '--to', RANGE_DAYS.at(-1)!, '--out', out],
    runs,
  );
  const day = RANGE_DAYS[3]!;
  const oneDay = await against(
    await floorOf(inFolders(files, nextDays(day, 1)), 'one-day'),
    ['reconcile', '--config', config, '--date', day, '--out', out],
    runs,
  );
  // daily as of the day after the range: yesterday is its last day, re-checking the three before it.
  const { schema } = await import('../src/config/schema.js');
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape ?? {};
  let daily: { cold: number; warm: number } | null = null;
  if ('cache' in shape) {
    const cacheDir = path.join(DATA, 'cache-daily');
    const cached = path.join(dir, 'config-cache.json');
    const cfg = JSON.parse(await readFile(config, 'utf8')) as Record<string, unknown>;
    await writeFile(cached, JSON.stringify({ ...cfg, cache: { location: cacheDir } }));
    const asOf = nextDays(RANGE_DAYS.at(-1)!, 1)[1]!;
    const argv = [CLI, 'daily', '--config', cached, '--as-of', asOf, '--out', path.join(DATA, 'out-daily'), '--quiet'];
    const colds: number[] = [];
    const warms: number[] = [];
    for (let i = 0; i < runs; i++) {
      await rm(cacheDir, { recursive: true, force: true });
      const cold = await measure(process.execPath, argv);
      const warm = await measure(process.execPath, argv);
      for (const r of [cold, warm])
        if (r.code !== 0 && r.code !== 1) throw new Error(`daily exited ${r.code}: ${r.stderr}`);
      colds.push(cold.seconds);
      warms.push(warm.seconds);
    }
    daily = { cold: median(colds), warm: median(warms) };
  }
  return { range, oneDay, day, daily };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function caseLocal(
  events: number,
  runs: number,
  factor = 1,
): Promise<{ ratio: number; rss: number; seconds: number; pipe: number; lines: string; spill: number }> {
  const { dir, config, files } = factor === 1 ? await dataset(events) : await scaledDataset(events, factor);
  const plain = files.filter((f) => !f.endsWith('.gz'));
  const gz = files.filter((f) => f.endsWith('.gz'));
  const listFile = path.join(dir, '.files');
  await writeFile(listFile, '');
  const pipe = `xargs -a ${JSON.stringify(listFile + '.plain')} cat | wc -l; xargs -a ${JSON.stringify(listFile + '.gz')} zcat | wc -l`;
  await writeFile(listFile + '.plain', plain.join('\n') + '\n');
  await writeFile(listFile + '.gz', gz.join('\n') + '\n');
  const lines = spawnSync('sh', ['-c', pipe], { encoding: 'utf8' }).stdout.trim().split('\n').join(' + ');
  const pipeTimes: number[] = [];
  const reconcileTimes: number[] = [];
  let rss = 0;
  let spill = 0;
  const out = path.join(DATA, 'out');
  // The same config with the engine's temp directory where the bench can watch it fill.
  const spillDir = path.join(DATA, `spill-x${factor}`);
  await mkdir(spillDir, { recursive: true });
  const watched = path.join(dir, 'config-spill.json');
  const cfg = JSON.parse(await readFile(config, 'utf8')) as { engine?: Record<string, unknown> };
  await writeFile(watched, JSON.stringify({ ...cfg, engine: { ...cfg.engine, tempDirectory: spillDir } }));
  for (let i = 0; i < runs; i++) {
    pipeTimes.push((await measure('sh', ['-c', pipe])).seconds);
    const argv = oneDay(CLI, watched, out);
    const r = await measure(process.execPath, argv, ROOT, spillDir);
    if (r.code !== 0 && r.code !== 1) throw new Error(`reconcile exited ${r.code}: ${r.stderr}`);
    reconcileTimes.push(r.seconds);
    rss = Math.max(rss, r.peakRssMiB);
    spill = Math.max(spill, r.peakSpillMiB);
  }
  const seconds = median(reconcileTimes);
  const pipeSeconds = median(pipeTimes);
  return { ratio: seconds / pipeSeconds, rss, seconds, pipe: pipeSeconds, lines, spill };
}

/** The last commit before loss windows (issue 13): the reference `--ref` defaults to. */
const BEFORE_WINDOWS = 'ae487421d5f11bdc57085e9c129e917b4ea0881f';

/**
 * Builds a commit of this repository (once, cached under bench/.data/ref-<sha>) with this checkout's
 * node_modules, and returns its CLI: a reference measured in the same run as the working tree's.
 */
async function referenceCli(commit: string): Promise<{ cli: string; sha: string }> {
  const sha = spawnSync('git', ['rev-parse', '--verify', `${commit}^{commit}`], { cwd: ROOT, encoding: 'utf8' });
  if (sha.status !== 0) throw new Error(`--ref ${commit}: not a commit of this repository (${sha.stderr.trim()})`);
  const id = sha.stdout.trim();
  const dir = path.join(DATA, `ref-${id.slice(0, 12)}`);
  const cli = path.join(dir, 'dist/jobs/main.js');
  if (!existsSync(cli)) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    process.stderr.write(`building the reference ${id.slice(0, 12)} into ${dir} …\n`);
    const run = (cmd: string, argv: string[], cwd: string) => {
      const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`);
    };
    run('sh', ['-c', `git archive ${id} | tar -x -C ${JSON.stringify(dir)}`], ROOT);
    run('ln', ['-s', path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules')], dir);
    run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], dir);
  }
  return { cli, sha: id };
}

/**
 * What a feature costs: the same day reconciled by the working tree and by a reference build, in
 * alternation (`runs` each, medians), so that the machine's load falls on both alike.
 */
async function caseAgainstReference(
  events: number,
  runs: number,
  commit: string,
): Promise<{ head: number; ref: number; sha: string; same: boolean }> {
  const { config } = await dataset(events);
  const { cli, sha } = await referenceCli(commit);
  const heads: number[] = [];
  const refs: number[] = [];
  const outHead = path.join(DATA, 'out-ref-head');
  const outRef = path.join(DATA, 'out-ref-ref');
  for (let i = 0; i < runs; i++) {
    for (const [which, bin, out, times] of [
      ['ref', cli, outRef, refs],
      ['head', CLI, outHead, heads],
    ] as const) {
      const r = await measure(process.execPath, oneDay(bin, config, out));
      if (r.code !== 0 && r.code !== 1) throw new Error(`${which} reconcile exited ${r.code}: ${r.stderr}`);
      times.push(r.seconds);
    }
  }
  // The parity report's contract columns must not change: only columns after them may be new.
  const contract = async (dir: string) =>
    (await readFile(path.join(dir, `parity-${DAY}.csv`), 'utf8'))
      .split('\n')
      .map((l) => l.split(',').slice(0, 16).join(','))
      .join('\n');
  const same = (await contract(outHead)) === (await contract(outRef));
  return { head: median(heads), ref: median(refs), sha, same };
}

/**
 * The gcs tier read from fake-gcs-server: reconcile with the landed objects in the emulator, and in
 * the same run download the same objects with curl (8 at once, as the job's default concurrency).
 */
async function caseGcs(
  events: number,
  runs: number,
): Promise<{ reconcile: number; local: number; curl: number; rss: number }> {
  const { startFakeGcs } = await import('../test/support/fake-gcs.js');
  const { dir, config } = await dataset(events);
  const fake = await startFakeGcs({ dataDir: path.join(dir, 'landed'), backend: 'filesystem' });
  try {
    const cfg = JSON.parse(await readFile(config, 'utf8')) as { tiers: { gcs: Record<string, unknown> } };
    cfg.tiers.gcs.locations = (cfg.tiers.gcs.locations as string[]).map((l) => l.replace(/^landed\//, 'gs://'));
    cfg.tiers.gcs.apiEndpoint = fake.endpoint;
    const gcsConfig = path.join(dir, 'config-gcs.json');
    await writeFile(gcsConfig, JSON.stringify(cfg));
    const objects = (await filesBelow(path.join(dir, 'landed'))).map((f) => path.relative(path.join(dir, 'landed'), f));
    const urls = objects.map((o) => {
      const [bucket, ...rest] = o.split('/');
      return `${fake.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(rest.join('/'))}?alt=media`;
    });
    const urlFile = path.join(dir, '.urls');
    await writeFile(urlFile, urls.join('\n') + '\n');
    const sizes = path.join(dir, '.sizes');
    const curl = await measure('sh', [
      '-c',
      `xargs -P 8 -n 1 curl -sS -f -o /dev/null -w '%{size_download}\\n' < ${JSON.stringify(urlFile)} > ${JSON.stringify(sizes)}`,
    ]);
    const downloaded = (await readFile(sizes, 'utf8'))
      .trim()
      .split('\n')
      .reduce((n, x) => n + Number(x), 0);
    if (curl.code !== 0 || downloaded === 0) throw new Error(`curl failed: ${curl.stderr}`);
    process.stderr.write(`curl downloaded ${objects.length} objects, ${(downloaded / 1048576).toFixed(0)} MiB\n`);
    const out = path.join(DATA, 'out-gcs');
    // `runs` rounds of the GCS run then the local one, in alternation; medians (one round is noise here).
    const fromGcs: number[] = [];
    const fromLocal: number[] = [];
    let rss = 0;
    for (let i = 0; i < runs; i++) {
      const r = await measure(process.execPath, oneDay(CLI, gcsConfig, out));
      if (r.code !== 0 && r.code !== 1) throw new Error(`reconcile from GCS exited ${r.code}: ${r.stderr}`);
      const l = await measure(process.execPath, oneDay(CLI, config, path.join(DATA, 'out')));
      fromGcs.push(r.seconds);
      fromLocal.push(l.seconds);
      rss = Math.max(rss, r.peakRssMiB);
    }
    return { reconcile: median(fromGcs), local: median(fromLocal), curl: curl.seconds, rss };
  } finally {
    await fake.stop();
  }
}

/**
 * The Kafka tier over `count` messages of one day in a real broker: the adapter's exact per-site
 * count of the day's offset range, its offsets-only fast path, and kcat consuming the same range
 * with headers, in the same run.
 */
async function caseKafka(
  count: number,
): Promise<{ exact: number; fast: number; kcat: number; counted: number; kcatLines: number }> {
  const [{ startBrokers }, { Kafka, logLevel, Partitioners }, { createKafkaTier }] = await Promise.all([
    import('../test/support/kafka-brokers.js'),
    import('kafkajs'),
    import('../src/tiers/kafka-tier.js'),
  ]);
  if (spawnSync('kcat', ['-V']).status !== 0)
    throw new Error('kcat is missing: bash scripts/install-kafka.sh --with-kcat');
  const brokers = await startBrokers(['EUS2']);
  try {
    const broker = brokers.brokers.EUS2!;
    const topic = 'bench-audit';
    const kafka = new Kafka({ clientId: 'bench', brokers: [broker], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    // Yesterday, not the files' fixed day: a broker deletes segments older than its retention (7 days).
    const start = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const sites = ['US', 'CA', 'MX'];
    const BATCH = 20_000;
    process.stderr.write(`publishing ${count.toLocaleString()} messages …\n`);
    for (let i = 0; i < count; i += BATCH) {
      const n = Math.min(BATCH, count - i);
      await producer.send({
        topic,
        acks: 1,
        messages: Array.from({ length: n }, (_, k) => {
          const j = i + k;
          return {
            partition: j % 3,
            key: `r-${j}`,
            value: '{}',
            timestamp: String(start + Math.floor((j / count) * 86_400_000)),
            headers: { 'wm-site-id': sites[j % 3]! },
          };
        }),
      });
    }
    await producer.disconnect();

    const t0 = process.hrtime.bigint();
    await admin.fetchTopicOffsetsByTimestamp(topic, start);
    await admin.fetchTopicOffsetsByTimestamp(topic, start + 86_400_000);
    const fast = Number(process.hrtime.bigint() - t0) / 1e9;
    await admin.disconnect();

    const tier = createKafkaTier(
      {
        topic,
        clusters: { EUS2: { brokers: [broker], ssl: false } },
        siteHeader: 'wm-site-id',
        requestId: { from: 'key' },
        connectionTimeoutMs: 10_000,
        readTimeoutMs: 600_000,
        outOfOrderMs: 300_000,
      },
      {},
    );
    const bySite = new Map<string, number>();
    const t1 = process.hrtime.bigint();
    await tier.readDay(
      { day: new Date(start).toISOString().slice(0, 10), startMs: start, endMs: start + 86_400_000 },
      async (rows) => {
        for (const r of rows) bySite.set(r.siteHeader ?? '', (bySite.get(r.siteHeader ?? '') ?? 0) + 1);
      },
    );
    const exact = Number(process.hrtime.bigint() - t1) / 1e9;
    const counted = [...bySite.values()].reduce((a, b) => a + b, 0);

    const kcat = await measure('sh', [
      '-c',
      `kcat -C -q -b ${broker} -t ${topic} -o s@${start} -o e@${start + 86_400_000} -e -f '%h\\n' | wc -l > ${JSON.stringify(path.join(DATA, '.kcat'))}`,
    ]);
    const kcatLines = Number((await readFile(path.join(DATA, '.kcat'), 'utf8')).trim());
    return { exact, fast, kcat: kcat.seconds, counted, kcatLines };
  } finally {
    await brokers.stop();
  }
}

/**
 * What `compare` costs a whole run: a day whose Kafka messages (value: the record as JSON) are in two
 * real brokers, one per region, and whose proxy and landed tiers are files, reconciled with and
 * without `compare` in alternation (`runs` each, medians). Compared fields: the request id and the site.
 */
async function caseCompare(events: number, runs: number): Promise<{ off: Measured; on: Measured; messages: number }> {
  const [{ startBrokers }, { Kafka, logLevel, Partitioners }] = await Promise.all([
    import('../test/support/kafka-brokers.js'),
    import('kafkajs'),
  ]);
  const regions = ['EUS2', 'SCUS'];
  const dir = path.join(DATA, `compare-${events}`);
  await rm(dir, { recursive: true, force: true });
  // Yesterday, not the files' fixed day: a day older than the topic's retention (7 days) is EXPIRED, not read.
  const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const gen = new ScenarioGenerator({ ...scenario(7, [day], events, 100).options, kafka: true });
  const messages: { region: string; ts: number; request_id: string | null; site: string | undefined }[] = [];
  process.stderr.write(`generating ${events.toLocaleString()} events with their Kafka messages …\n`);
  const written = await writeScenario(gen, dir, { gzipShare: 0.4, onKafka: (m) => void messages.push(...m) });
  const brokers = await startBrokers(regions);
  try {
    const topic = 'bench-compare';
    process.stderr.write(`publishing ${messages.length.toLocaleString()} messages into two brokers …\n`);
    for (const region of regions) {
      const kafka = new Kafka({ clientId: 'bench', brokers: [brokers.brokers[region]!], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const mine = messages.filter((m) => m.region === region);
      for (let i = 0; i < mine.length; i += 20_000) {
        await producer.send({
          topic,
          acks: 1,
          messages: mine.slice(i, i + 20_000).map((m, k) => ({
            partition: (i + k) % 3,
            key: m.request_id,
            value: JSON.stringify({ request_id: m.request_id, timestamp: m.ts, site: m.site }),
            timestamp: String(m.ts),
            headers: m.site === undefined ? {} : { 'wm-site-id': m.site },
          })),
        });
      }
      await producer.disconnect();
    }
    const base = path.join(dir, 'config.json');
    await writeScenarioConfig(base, gen, written, { engine: { batchDays: 1 } });
    const doc = JSON.parse(await readFile(base, 'utf8')) as { tiers: Record<string, unknown> };
    const clusters = Object.fromEntries(regions.map((r) => [r, { brokers: [brokers.brokers[r]!] }]));
    doc.tiers.kafka = { topic, clusters, readTimeoutMs: 600_000 };
    const off = path.join(dir, 'config-off.json');
    const on = path.join(dir, 'config-on.json');
    await writeFile(off, JSON.stringify(doc));
    await writeFile(on, JSON.stringify({ ...doc, compare: ['request_id', 'site'] }));
    const times = { off: [] as number[], on: [] as number[] };
    const rss = { off: 0, on: 0 };
    for (let i = 0; i < runs; i++) {
      for (const which of ['off', 'on'] as const) {
        const r = await measure(
          process.execPath,
          oneDay(CLI, which === 'on' ? on : off, path.join(dir, `out-${which}`), day),
        );
        if (r.code !== 0 && r.code !== 1) throw new Error(`reconcile, compare ${which}, exited ${r.code}: ${r.stderr}`);
        times[which].push(r.seconds);
        rss[which] = Math.max(rss[which], r.peakRssMiB);
      }
    }
    // A figure of a run that read no Kafka (a day past retention is EXPIRED) or compared nothing is no figure.
    const parity = await readFile(path.join(dir, 'out-on', `parity-${day}.csv`), 'utf8');
    const all = (parse(parity, { columns: true }) as Record<string, string>[]).find((r) => r.site === 'ALL')!;
    if (!all.kafka_records || !all.content_mismatch)
      throw new Error(`the compare run read no Kafka or compared nothing: ${JSON.stringify(all)}`);
    return {
      off: { seconds: median(times.off), peakRssMiB: rss.off },
      on: { seconds: median(times.on), peakRssMiB: rss.on },
      messages: messages.length,
    };
  } finally {
    await brokers.stop();
  }
}

/**
 * engine: bigquery over the proxy and landed tables of one day in goccy/bigquery-emulator (file-
 * backed, for million-row tables), at each size: the pod's (the CLI process's) peak RSS with
 * engine bigquery, and with the embedded engine reading the same tables for reference. The
 * emulator's own memory and speed are not BigQuery's and are not reported.
 */
async function caseBigqueryEngine(
  sizes: number[],
): Promise<{ events: number; rows: number; engine: Measured; embedded: Measured | null }[]> {
  const [{ startBqEmulator }, tables, { createBigqueryClient }] = await Promise.all([
    import('../test/support/bq-emulator.js'),
    import('../test/support/bq-tables.js'),
    import('../src/bigquery/client.js'),
  ]);
  const project = 'parity-bench';
  const database = path.join(DATA, 'bq-emulator.db');
  await rm(database, { force: true });
  const emu = await startBqEmulator(project, { database });
  const out: { events: number; rows: number; engine: Measured; embedded: Measured | null }[] = [];
  try {
    const bq = createBigqueryClient({ projectId: project, apiEndpoint: emu.endpoint });
    const audit = await tables.createDataset(bq, 'audit');
    await tables.createDataset(bq, 'scratch');
    for (const events of sizes) {
      // Two generators of one seed yield the same day: one feeds the proxy table, one the landed table.
      const gen = () => scenario(42, [DAY], events, 0);
      const proxyGen = gen();
      const landedGen = gen();
      process.stderr.write(`loading ${events.toLocaleString()} events into the emulator's proxy and landed tables …\n`);
      const t0 = Date.now();
      const proxyRows = await tables.loadTable(
        audit,
        `proxy_${events}`,
        tables.PROXY_SCHEMA,
        (function* () {
          for (const e of proxyGen.events(DAY)) for (const l of e.proxy) yield tables.proxyRow(l);
        })(),
      );
      const landedRows = await tables.loadTable(
        audit,
        `landed_${events}`,
        tables.LANDED_SCHEMA,
        (function* () {
          for (const e of landedGen.events(DAY)) for (const c of e.landed) yield tables.landedRow(c);
        })(),
      );
      process.stderr.write(
        `  ${proxyRows.toLocaleString()} proxy rows and ${landedRows.toLocaleString()} landed rows loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
      );
      const run = async (engine: 'bigquery' | 'embedded') => {
        const config = path.join(DATA, `config-bq-${engine}-${events}.json`);
        await writeFile(
          config,
          JSON.stringify({
            timezone: 'UTC',
            sites: ['US', 'CA', 'MX'],
            tiers: {
              proxy: { bigquery: { table: `${project}.audit.proxy_${events}`, columns: { timestamp: 'ts' } } },
              bigquery: {
                table: `${project}.audit.landed_${events}`,
                columns: { timestamp: 'ts' },
                apiEndpoint: emu.endpoint,
              },
            },
            engine:
              engine === 'bigquery'
                ? { kind: 'bigquery', dataset: `${project}.scratch` }
                : { kind: 'embedded', batchDays: 1 },
          }),
        );
        const r = await measure(process.execPath, oneDay(CLI, config, path.join(DATA, `out-bq-${engine}-${events}`)));
        if (r.code !== 0 && r.code !== 1)
          throw new Error(`reconcile with engine ${engine} exited ${r.code}: ${r.stderr}`);
        process.stderr.write(
          `  engine ${engine}: ${r.seconds.toFixed(0)} s (the emulator's speed, not BigQuery's), pod peak RSS ${r.peakRssMiB.toFixed(0)} MiB\n`,
        );
        return r;
      };
      const engine = await run('bigquery');
      const embedded = flag('--no-embedded-reference') ? null : await run('embedded');
      if (embedded) {
        const [a, b] = await Promise.all(
          [path.join(DATA, `out-bq-bigquery-${events}`), path.join(DATA, `out-bq-embedded-${events}`)].map((d) =>
            readFile(path.join(d, `parity-${DAY}.csv`), 'utf8'),
          ),
        );
        if (a !== b)
          throw new Error(
            `engine bigquery and the embedded engine disagree on ${events} events: compare ${DATA}/out-bq-*-${events}`,
          );
      }
      out.push({ events, rows: proxyRows + landedRows, engine, embedded });
    }
  } finally {
    await emu.stop();
    await rm(database, { force: true });
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('build first: npm run build');
  await mkdir(DATA, { recursive: true });
  const events = value('--events', 2_000_000);
  const runs = value('--runs', 3);
  const fmt = (n: number) => n.toFixed(2);
  const one = flag('--no-local') ? null : await caseLocal(events, runs);
  if (one) {
    console.log(`local files, one day of ${events.toLocaleString()} events (${one.lines} lines, 40% of files gzip):`);
    console.log(
      `  reconcile ${fmt(one.seconds)} s vs cat/zcat | wc -l ${fmt(one.pipe)} s  ratio ${fmt(one.ratio)}x (target <= 2.50x)`,
    );
    console.log(`  peak RSS ${one.rss.toFixed(0)} MiB (target <= 1024 MiB)`);
  }
  if (one) console.log(`  engine temp directory (spill) peak ${one.spill.toFixed(0)} MiB`);
  if (one && !flag('--no-ref')) {
    const ref = args.includes('--ref') ? args[args.indexOf('--ref') + 1]! : BEFORE_WINDOWS;
    const c = await caseAgainstReference(events, runs, ref);
    console.log(
      `cost of what was added since ${c.sha.slice(0, 12)}${ref === BEFORE_WINDOWS ? ' (before loss windows)' : ''}, same day:`,
    );
    console.log(
      `  reconcile ${fmt(c.head)} s vs the reference build ${fmt(c.ref)} s  cost ${((c.head / c.ref - 1) * 100).toFixed(1)} % (target < 10 %); contract columns ${c.same ? 'identical' : 'DIFFER'}`,
    );
  }
  if (!flag('--no-range')) {
    const perDay = value('--range-events', 1_000_000);
    const r = await caseRange(perDay, runs);
    console.log(`local files, 7 days of ${perDay.toLocaleString()} events (${r.range.lines} lines):`);
    console.log(
      `  reconcile --from..--to ${fmt(r.range.seconds)} s vs cat/zcat | wc -l ${fmt(r.range.pipe)} s  ratio ${fmt(r.range.ratio)}x (target <= 2.50x); peak RSS ${r.range.rss.toFixed(0)} MiB (target <= 1024 MiB)`,
    );
    console.log(`one-day run, cold, ${r.day} of the range (its folders: ${r.oneDay.lines} lines):`);
    console.log(
      `  reconcile --date ${fmt(r.oneDay.seconds)} s vs cat/zcat | wc -l of the folders the day needs ${fmt(r.oneDay.pipe)} s  ratio ${fmt(r.oneDay.ratio)}x (target <= 3.00x); peak RSS ${r.oneDay.rss.toFixed(0)} MiB`,
    );
    if (r.daily)
      console.log(
        `daily, lateDays 3, cache warm ${fmt(r.daily.warm)} s vs cold ${fmt(r.daily.cold)} s  ratio ${fmt(r.daily.warm / r.daily.cold)}x (target <= 0.50x)`,
      );
    else console.log('daily, lateDays 3, warm vs cold: cache not available (the config has no cache key yet)');
  }
  if (!flag('--no-gcs')) {
    const g = await caseGcs(events, runs);
    console.log(`gcs tier from fake-gcs-server (same day, landed objects in the emulator):`);
    console.log(
      `  reconcile ${fmt(g.reconcile)} s vs curl download of the same objects ${fmt(g.curl)} s  ratio ${fmt(g.reconcile / g.curl)}x (target <= 1.30x)`,
    );
    console.log(
      `  the GCS reads cost ${fmt(g.reconcile - g.local)} s over the same reconcile from local files (${fmt(g.local)} s; medians of ${runs}, in alternation)  ratio ${fmt(g.reconcile / g.local)}x (target <= 1.20x); peak RSS ${g.rss.toFixed(0)} MiB`,
    );
  }
  if (!flag('--no-kafka')) {
    const messages = value('--kafka-messages', 2_000_000);
    const k = await caseKafka(messages);
    console.log(`kafka tier, one broker, ${messages.toLocaleString()} messages of one day:`);
    console.log(
      `  exact per-site count ${fmt(k.exact)} s (${k.counted.toLocaleString()} messages) vs kcat over the same range with headers ${fmt(k.kcat)} s (${k.kcatLines.toLocaleString()})  ratio ${fmt(k.exact / k.kcat)}x (target <= 2.00x)`,
    );
    console.log(`  offsets fast path ${fmt(k.fast)} s (target < 1 s)`);
  }
  if (!flag('--no-compare')) {
    const n = value('--compare-events', 500_000);
    const c = await caseCompare(n, runs);
    console.log(
      `compare (issue 13), one day of ${n.toLocaleString()} events, ${c.messages.toLocaleString()} Kafka messages in two brokers:`,
    );
    console.log(
      `  reconcile with compare [request_id, site] ${fmt(c.on.seconds)} s vs without ${fmt(c.off.seconds)} s  cost ${((c.on.seconds / c.off.seconds - 1) * 100).toFixed(1)} %; peak RSS ${c.on.peakRssMiB.toFixed(0)} vs ${c.off.peakRssMiB.toFixed(0)} MiB`,
    );
  }
  if (!flag('--no-bigquery')) {
    const sizes = [value('--bq-small', 1_000_000), value('--bq-large', 5_000_000)];
    const results = await caseBigqueryEngine(sizes);
    console.log(`engine bigquery, one day read from proxy and landed tables in goccy/bigquery-emulator:`);
    for (const r of results) {
      console.log(
        `  ${r.events.toLocaleString()} events (${r.rows.toLocaleString()} table rows): pod peak RSS ${r.engine.peakRssMiB.toFixed(0)} MiB with engine bigquery` +
          (r.embedded
            ? `, ${r.embedded.peakRssMiB.toFixed(0)} MiB with the embedded engine reading the same tables`
            : ''),
      );
    }
    const [small, large] = [results[0]!, results.at(-1)!];
    console.log(
      `  pod memory ${fmt(large.events / small.events)}x the events: ${fmt(large.engine.peakRssMiB / small.engine.peakRssMiB)}x with engine bigquery (target <= 1.20x: flat)` +
        (small.embedded && large.embedded
          ? `, ${fmt(large.embedded.peakRssMiB / small.embedded.peakRssMiB)}x embedded`
          : ''),
    );
  }
  if (flag('--scale10') && one) {
    const ten = await caseLocal(events, 1, 10);
    console.log(`local files, 10x: ${(events * 10).toLocaleString()} events (${ten.lines} lines):`);
    console.log(`  reconcile ${fmt(ten.seconds)} s vs pipe ${fmt(ten.pipe)} s  ratio ${fmt(ten.ratio)}x`);
    console.log(
      `  peak RSS ${ten.rss.toFixed(0)} MiB = ${fmt(ten.rss / one.rss)}x the 1x figure for 10x the data (DuckDB holds engine.memoryLimit, default 512MiB, and spills the rest to disk)`,
    );
    console.log(`  engine temp directory (spill) peak ${ten.spill.toFixed(0)} MiB (1x: ${one.spill.toFixed(0)} MiB)`);
  }
}

await main();
