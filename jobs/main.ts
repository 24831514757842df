#!/usr/bin/env node
import { createHash } from 'node:crypto';
import os from 'node:os';
import { resolveSites } from '../src/args.js';
import { type CliRequest, type JobOptions, type JobRequest, logsJson, main } from '../src/cli.js';
import { VERSION } from '../src/command.js';
import { type Config, loadConfig } from '../src/config.js';
import { checkCredentialsFile, usesGoogle } from '../src/credentials.js';
import type { DayKey, DaySummary, ReconcileResult } from '../src/domain.js';
import { UsageError } from '../src/errors.js';
import { checkOutForPlan, outFlag, outFolder, refuseOutInsideTiers } from './output-checks.js';
import { daysOf, requireQuarterHours } from './run-days.js';
import { EXIT } from '../src/exit.js';
import { firstMissingFolder, removeEmptyFolders } from '../src/folders.js';
import { jsonLogger, type Logger, progressBar, textLogger } from '../src/log/logger.js';
import type { Publish } from '../src/report/day-writer.js';
import type { RunMetadata } from '../src/report/manifest.js';
import { summarizeDay } from '../src/report/summary.js';
import { removeStaleTemporaries, requireScratchFolder, requireWritableFolder } from '../src/report/writer.js';
import {
  acquireGcsLease,
  acquireLocalLease,
  type LeaseHolder,
  leaseHolder,
  type OutputLease,
} from '../src/storage/output-lease.js';
import { type OpenTiers, openTiers } from '../src/tiers/open-tiers.js';

/**
 * The `parity` command: src/cli.ts parses the command line into a request; this runs it. A job
 * command loads the config, prepares --out, opens the tiers, runs the job and hands its result to
 * jobs/finish.ts. The jobs are imported when a command needs them, so `--help` loads none.
 */
async function runRequest(req: CliRequest, signal: AbortSignal): Promise<number> {
  if (req.command === 'demo') return (await import('./demo.js')).demoCommand(req.out, signal);
  if (req.command === 'reconcile' && req.dryRun) {
    const { runDryRun } = await import('./dry-run.js');
    // A library's process warning is a log line here too (it was Node's raw "(node:…)" text among the plan's).
    const log = logsJson(req.options.logFormat) ? jsonLogger() : textLogger();
    logProcessWarnings(() => log);
    const format = req.options.format;
    if (format === 'json' || format === 'csv')
      throw new UsageError('--format', `${format} has nothing to hold: --dry-run prints its plan as text`);
    const config = await loadConfig(req.options.config);
    // What the run itself checks before it reads anything, the plan checks too (exit 2, not a plan), writing nothing.
    resolveSites(req.sites, config.sites);
    requireQuarterHours(await daysOf(req, config, new Date(), log), config);
    await checkOutForPlan(req.options, config);
    if (usesGoogle(config, '')) await checkCredentialsFile(process.env);
    process.stdout.write(await runDryRun(config, req.days, process.env));
    return EXIT.ok;
  }
  return runJob(req, signal);
}

/** The flag of the local folder the reports are written to: --out, or --local-out beside a gs:// --out. */

/** A library's process warning (google-auth's MetadataLookupWarning, say) as a line of the logger `to` gives. */
function logProcessWarnings(to: () => Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => to().warn(`${w.name}: ${w.message}`, { warning: w.name }));
}

/** What a job command is given, opened from its options and config. */
interface JobContext {
  config: Config;
  log: Logger;
  run: RunMetadata;
  now: Date;
  tiers: OpenTiers;
  outDir: string;
  publish?: Publish;
  onDay: (s: DaySummary) => void;
  /** Told daily's days once it has chosen them. */
  onPlan: (days: readonly DayKey[]) => void;
  beforeWrite: () => Promise<void>;
  /** A line for the person at the terminal; beside a --format json/csv document on stdout it goes to the log. */
  note: (line: string) => void;
  signal: AbortSignal;
}

/** Everything a job command shares: config, logging, progress, the tiers, then the work after the run. */
async function runJob(req: JobRequest, signal: AbortSignal): Promise<number> {
  const opts = req.options;
  const config = await loadConfig(opts.config);
  // --sites against the config's sites before anything is made or read (runCommand resolves it again).
  if (req.command === 'reconcile') resolveSites(req.sites, config.sites);
  const json = logsJson(opts.logFormat);
  const base = json ? jsonLogger() : textLogger();
  const log: Logger = opts.quiet ? { info() {}, warn: base.warn, error: base.error } : base;
  // A library's process warning (google-auth's MetadataLookupWarning, say) is a log line like the job's
  // own, not lines of text among JSON ones on stderr: Node's own printer is replaced.
  // Once a progress bar is drawn, through its logger (warnings.to), so that the line is not written onto it.
  const warnings = { to: log };
  logProcessWarnings(() => warnings.to);
  if (opts.localOutGiven && !opts.out.startsWith('gs://'))
    log.warn(
      `--local-out "${opts.localOut}" is not used: the reports go to --out "${opts.out}" (--local-out is for --out gs://…)`,
    );
  const now = new Date();
  // One holder for the run's leases: the local folder's and, with --out gs://, the prefix's.
  const holder = leaseHolder(req.command, now.toISOString());
  // The days are checked before the output folder is made or leased: a refused day leaves nothing behind.
  const days = await daysOf(req, config, now, log);
  requireQuarterHours(days, config);
  const leases: OutputLease[] = [];
  // A folder the run makes for its reports and then leaves empty (a refusal, an error before any day) is removed.
  const folder = opts.out.startsWith('gs://') ? opts.localOut : opts.out;
  const made = await firstMissingFolder(folder);
  try {
    leases.push(await prepareOutput(opts, config, log, holder, signal));
    return await runLeased(req, config, { log, json, now, days }, { holder, leases }, signal, warnings);
  } finally {
    for (const lease of leases.reverse()) await lease.release();
    if (made !== undefined) await removeEmptyFolders(folder, made);
  }
}

/** runJob's work once the output folder is this run's: the tiers, the run, then finish. */
async function runLeased(
  req: JobRequest,
  config: Config,
  { log, json, now, days }: { log: Logger; json: boolean; now: Date; days: DayKey[] },
  lease: { holder: LeaseHolder; leases: OutputLease[] },
  signal: AbortSignal,
  warnings: { to: Logger },
): Promise<number> {
  const { leases } = lease;
  const opts = req.options;
  // Beside JSON logs (a log collector) stdout stays empty unless a script asks for a format.
  const format = opts.format ?? (json ? null : 'table');
  const run: RunMetadata = {
    asOf: now.toISOString(),
    version: VERSION,
    revision: process.env.PARITY_REVISION || null,
    configHash: configHashOf(config),
    command: req.command,
  };
  // daily's days are known once its earlier reports are read (runDaily's onPlan says them).
  const totalDays = req.command === 'daily' ? config.jobs.lateDays + 1 : req.days.length;
  const bar = !json && !opts.quiet && process.stderr.isTTY ? progressBar(totalDays) : null;
  // The edge that reads the environment: Kafka credentials come from the variables the config names, and
  // Google's from Application Default Credentials, whose key file is checked first (its text is a secret).
  if (usesGoogle(config, opts.out)) await checkCredentialsFile(process.env);
  // An alert that cannot be sent is said as the run begins, every run: found only at the end, it was said only on
  // the day that needed the alert. A warning, not exit 2: the reports matter more than the alert, and the
  // CronJob's Secret is optional (cron.yaml).
  const webhookVar = config.alerts.webhookUrlEnv;
  if (webhookVar && opts.alert) {
    const { webhookProblem } = await import('../src/alerts/webhook.js');
    const problem = webhookProblem(webhookVar, process.env);
    if (problem)
      log.warn(`alerts.webhookUrlEnv: ${problem}: this run can send no alert (set it, or run with --no-alert)`, {
        alert_unusable: webhookVar,
      });
  }
  const tiers = await openTiers(config, process.env);
  const { outDir, publish } = await outputOf(opts, tiers, signal, { days, log, ...lease }).catch(async (e: unknown) => {
    await tiers.close();
    throw e;
  });
  // Beside the bar: no INFO lines, and a warning or error on a line of its own, the bar drawn again below.
  const runLog: Logger = bar
    ? {
        info() {},
        warn: (m, f) => bar.around(() => log.warn(m, f)),
        error: (m, f) => bar.around(() => log.error(m, f)),
      }
    : log;
  warnings.to = runLog;
  let result: ReconcileResult;
  try {
    result = await runCommand(req, {
      config,
      log: runLog,
      run,
      now,
      tiers,
      outDir,
      ...(publish ? { publish } : {}),
      onDay: (s) => bar?.tick(`${s.day} ${summarizeDay(s.rows).text}`),
      onPlan: (days) => bar?.resize(days.length),
      // Before each day is written: no other run took the output over meanwhile (exit 5 if one did).
      beforeWrite: async () => {
        for (const lease of leases) await lease.confirm();
      },
      // stdout holds the table, or only the document a script asked for, or nothing beside JSON logs.
      note: (line) => (format === 'table' ? process.stdout.write(`${line}\n`) : log.info(line)),
      signal,
    });
  } finally {
    await tiers.close();
  }
  bar?.done();
  const { finish } = await import('./finish.js');
  const { history } = tiers;
  if (history && !opts.history)
    log.info(`history: not written to ${config.tiers.bigquery?.history?.table} (--no-history)`);
  return finish({
    result,
    config,
    command: req.command,
    run,
    out: opts.out,
    outDir,
    ...(publish ? { publish } : {}),
    format,
    onlyFailing: opts.onlyFailing,
    alert: opts.alert,
    json,
    log,
    ...(history && opts.history ? { history } : {}),
    env: process.env,
    signal,
  });
}

/** The job a command runs, with the tiers the config opened. */
async function runCommand(req: JobRequest, ctx: JobContext): Promise<ReconcileResult> {
  const { config, log, run, onDay, onPlan, note, now, tiers, outDir, publish, signal } = ctx;
  const common = {
    config,
    beforeWrite: ctx.beforeWrite,
    outDir,
    ...(publish ? { publish } : {}),
    ...(tiers.kafka ? { kafka: tiers.kafka } : {}),
    ...(tiers.bigquery ? { bigquery: tiers.bigquery } : {}),
    ...(tiers.proxyTable ? { proxyTable: tiers.proxyTable } : {}),
    gcs: tiers.gcs,
    ...(tiers.bigqueryClients ? { bigqueryClients: tiers.bigqueryClients } : {}),
    signal,
    log,
    run,
    onDay,
  };
  if (req.command === 'reconcile') {
    const sites = resolveSites(req.sites, config.sites);
    return (await import('./reconcile.js')).runReconcile({ ...common, days: req.days, ...(sites ? { sites } : {}) });
  }
  if (req.command === 'daily') {
    // --as-of is the day itself, in the configured zone: no instant to convert.
    const result = await (
      await import('./daily.js')
    ).runDaily({ ...common, now, onPlan, ...(req.asOf ? { today: req.asOf } : {}) });
    if (result.restated.length > 0)
      note(`restated: ${result.restated.join(', ')} (their reports changed since they were last written)`);
    return result;
  }
  const { force, concurrency, days } = req;
  const result = await (await import('./backfill.js')).runBackfill({ ...common, days, force, concurrency, onPlan });
  if (result.skipped.length > 0) note(`skipped ${result.skipped.length} current days (--force redoes them)`);
  return result;
}

/**
 * Before anything is read: the local output folder must be a folder reports can be written to (exit 2
 * naming the flag otherwise), and engine.tempDirectory one the run can spill to (exit 2 naming the key);
 * what a killed run of this job left there and in the temp folder (temporary files, scratch folders of
 * processes that are gone) is removed.
 */
async function prepareOutput(
  opts: JobOptions,
  config: Config,
  log: Logger,
  holder: LeaseHolder,
  signal: AbortSignal,
): Promise<OutputLease> {
  const [flag, dir] = [outFlag(opts), outFolder(opts)];
  await refuseOutInsideTiers(opts, config);
  await requireWritableFolder(dir, (why) => new UsageError(flag, `"${dir}" cannot hold the reports: ${why}`));
  const temp = config.engine.tempDirectory;
  await requireScratchFolder(temp);
  // Taken last, so that nothing above leaves it behind when it refuses the run.
  const lease = await acquireLocalLease(dir, holder, flag, { onWait: (m) => log.warn(`${flag}: ${m}`), signal });
  const cache = config.cache?.location;
  const removed = await removeStaleTemporaries(
    dir,
    temp ?? os.tmpdir(),
    cache?.scheme === 'file' ? [cache.template] : [],
  );
  if (removed.length > 0)
    log.info(`removed ${removed.length} leftovers of runs that were killed: ${removed.join(', ')}`, { removed });
  return lease;
}

/**
 * `--out DIR`, or `--out gs://bucket/prefix/`: then the reports are written to `--local-out` first
 * and each day's files are uploaded once written (one request each: a reader sees the old object
 * or the new one). An upload or removal the bucket refuses is an OutputError: exit 5 (publishError); a
 * bucket that does not exist is exit 2 (--out), one that cannot be listed or read exit 3. Before the run reads anything, the
 * earlier reports it compares with are brought from the bucket into `--local-out`
 * (jobs/sync-reports.ts): there they may be gone (an emptyDir) or older than the bucket's.
 */
async function outputOf(
  opts: JobOptions,
  tiers: OpenTiers,
  signal: AbortSignal,
  history: { days: readonly DayKey[]; log: Logger; leases: OutputLease[]; holder: LeaseHolder },
): Promise<{ outDir: string; publish?: Publish }> {
  if (!opts.out.startsWith('gs://')) return { outDir: opts.out };
  const { parseGsUrl } = await import('../src/storage/gcs-store.js');
  const { gcsPublisher } = await import('./publish-gcs.js');
  const target = parseGsUrl(opts.out);
  if (!target) throw new UsageError('--out', `"${opts.out}" is not gs://bucket/prefix/`);
  const prefix = target.name === '' || target.name.endsWith('/') ? target.name : `${target.name}/`;
  const storage = await tiers.gcs.storage();
  const onWait = (m: string) => history.log.warn(`--out: ${m}`);
  history.leases.push(await acquireGcsLease(storage, target.bucket, prefix, history.holder, { onWait, signal }));
  const { syncEarlierReports } = await import('./sync-reports.js');
  await syncEarlierReports({
    storage,
    bucket: target.bucket,
    prefix,
    localDir: opts.localOut,
    days: history.days,
    log: history.log,
    signal,
  });
  return { outDir: opts.localOut, publish: gcsPublisher(storage, target.bucket, prefix, history.leases, signal) };
}

const code = await main(process.argv, runRequest);
process.exitCode = code;
// A client library that keeps a socket or timer alive must not keep a finished run from exiting.
setTimeout(() => process.exit(code), 2000).unref();

/**
 * The config's sha256 as reports see it. Settings that change only how a run goes, not what it
 * reports (the per-object cache, the engine's memory, threads, scratch folder and days a pass, the GCS
 * downloads at once, which days `daily` covers, where alerts go), are left out, so that turning the cache
 * on, resizing the pod or adding an alert does not make every earlier report stale to backfill.
 */
function configHashOf(config: Config): string {
  const { cache: _cache, engine, gcs, jobs: _jobs, alerts: _alerts, ...rest } = config;
  const { memoryLimit: _memory, threads: _threads, tempDirectory: _temp, batchDays: _days, ...engineRest } = engine;
  const { downloadConcurrency: _downloads, ...gcsRest } = gcs;
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, engine: engineRest, gcs: gcsRest }))
    .digest('hex');
}
