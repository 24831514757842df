#!/usr/bin/env node
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { type Command, CommanderError, Option } from 'commander';
import { ParityCommand, withHelpEpilogue } from './command.js';
import type { Config } from './config.js';
import type { RowStatus } from './domain.js';
import { AbortedError, ConfigError, OutputError, TierError, UsageError, throwIfAborted } from './errors.js';
import { jsonLogger, type Logger, progressBar, textLogger } from './log/logger.js';
import type { RunMetadata } from './report/manifest.js';
import type { DaySummary, ReconcileResult } from '../jobs/reconcile.js';
import type { BigqueryRangeReader } from './tiers/bigquery-reader.js';
import type { KafkaTierReader } from './tiers/kafka-reader.js';

/** Exit statuses: the contract's 0–3, then ours. */
export const EXIT = { ok: 0, fail: 1, usage: 2, tier: 3, internal: 4, output: 5, sigint: 130, sigterm: 143 } as const;

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

interface CommonOptions {
  config: string;
  out: string;
  localOut: string;
  logFormat: 'auto' | 'text' | 'json';
  quiet: boolean;
  /** What is printed on stdout at the end; none given: the table on a terminal, nothing beside JSON logs. */
  format?: 'table' | 'json' | 'csv';
  onlyFailing: boolean;
}

const logFormatOption = () =>
  new Option('--log-format <format>', 'text on a terminal, JSON lines (Cloud Logging) otherwise')
    .choices(['auto', 'text', 'json'])
    .default('auto');

/** --format and --only-failing: the end-of-run summary, for a person or a script. */
const summaryOptions = (cmd: Command): Command =>
  cmd
    .addOption(
      new Option(
        '--format <format>',
        "the summary printed at the end: per day the worst status, ALL's parity, the leading cause and the rows behind it (default: table on a terminal)",
      ).choices(['table', 'json', 'csv']),
    )
    .option('--only-failing', 'print only the days and rows that are not PASS', false);

/** Everything a job command shares: config, logging, progress, the summary, alerts, the exit status. */
async function runJob(
  opts: CommonOptions,
  command: string,
  signal: AbortSignal,
  job: (ctx: {
    config: Config;
    log: Logger;
    run: RunMetadata;
    onDay: (s: DaySummary) => void;
    /** A line for the person at the terminal; beside a --format json/csv document on stdout it goes to the log. */
    note: (line: string) => void;
    now: Date;
    kafka?: KafkaTierReader;
    bigquery?: BigqueryRangeReader;
    /** The proxy's table, when tiers.proxy.bigquery is configured. */
    proxyTable?: BigqueryRangeReader;
    /** Where the files go on this machine, and the copy elsewhere when --out is gs://. */
    outDir: string;
    publish?: (files: string[]) => Promise<void>;
  }) => Promise<ReconcileResult>,
  totalDays: (config: Config) => number,
): Promise<void> {
  const [
    { loadConfig },
    { renderSummaryTable, renderSummaryJson, renderSummaryCsv, summarizeDay },
    { buildAlert, postWebhook },
  ] = await Promise.all([import('./config.js'), import('./report/summary.js'), import('./alerts/webhook.js')]);
  const config = await loadConfig(opts.config);
  const json = opts.logFormat === 'json' || (opts.logFormat === 'auto' && !process.stderr.isTTY);
  const base = json ? jsonLogger() : textLogger();
  const log: Logger = opts.quiet ? { info() {}, warn: base.warn, error: base.error } : base;
  await prepareOutput(opts, config, log);
  // Beside JSON logs (a log collector) stdout stays empty unless a script asks for a format.
  const format = opts.format ?? (json ? null : 'table');
  const now = new Date();
  const run: RunMetadata = {
    asOf: now.toISOString(),
    version: VERSION,
    revision: process.env.PARITY_REVISION || null,
    configHash: createHash('sha256').update(JSON.stringify(config)).digest('hex'),
    command,
  };
  const bar = !json && !opts.quiet && process.stderr.isTTY ? progressBar(totalDays(config)) : null;
  // The CLI is the edge that reads the environment: Kafka credentials come from the variables the config names.
  const kafka = config.tiers.kafka
    ? (await import('./tiers/kafka-tier.js')).createKafkaTier(config.tiers.kafka, process.env)
    : undefined;
  const bigquery = config.tiers.bigquery ? await openBigquery(config) : undefined;
  const proxyTable = config.tiers.proxyBigquery ? await openProxyTable(config) : undefined;
  const { outDir, publish } = await outputOf(opts, config, signal);
  let result: ReconcileResult;
  try {
    result = await job({
      config,
      log: bar ? { ...log, info() {} } : log,
      run,
      now,
      ...(kafka ? { kafka } : {}),
      ...(bigquery ? { bigquery } : {}),
      ...(proxyTable ? { proxyTable } : {}),
      outDir,
      ...(publish ? { publish } : {}),
      onDay: (s) => bar?.tick(`${s.day} ${summarizeDay(s.rows).text}`),
      note: (line) => (format === 'json' || format === 'csv' ? log.info(line) : process.stdout.write(`${line}\n`)),
    });
  } finally {
    await kafka?.close();
  }
  bar?.done();
  // A stopped run writes nothing more: no HTML report, no upload, no history, no alert.
  throwIfAborted(signal);
  const htmlFile = await writeHtml(result, config, outDir, command, signal);
  if (htmlFile && publish) {
    throwIfAborted(signal);
    await publish([htmlFile]);
  }
  if (format === 'table') {
    if (htmlFile) process.stdout.write(`HTML report: ${htmlFile}\n`);
    process.stdout.write(
      renderSummaryTable(result.days, { width: terminalWidth(), onlyFailing: opts.onlyFailing }) +
        `reports written to ${opts.out.startsWith('gs://') ? `${outDir}/ and ${opts.out}` : `${opts.out}/`}\n`,
    );
  } else if (format === 'json') process.stdout.write(renderSummaryJson(result.days, { onlyFailing: opts.onlyFailing }));
  else if (format === 'csv')
    process.stdout.write(
      renderSummaryCsv(result.days, { onlyFailing: opts.onlyFailing, formulaGuard: config.reports.csvFormulaGuard }),
    );
  const webhookVar = config.alerts.webhookUrlEnv;
  const alert = buildAlert(result.days, config.alerts.on as RowStatus[], opts.out);
  if (webhookVar && alert && !signal.aborted) {
    const url = process.env[webhookVar];
    if (!url) log.warn(`alerts.webhookUrlEnv: ${webhookVar} is not set; no alert sent`);
    else if (!URL.canParse(url) || !/^https?:/i.test(url))
      log.warn(`alerts.webhookUrlEnv: ${webhookVar} does not hold an http(s) URL; no alert sent`);
    // The URL carries a token: the message of a failed post names only the status, never the URL.
    else
      await postWebhook(url, alert, signal).then(
        () => log.info('alert sent'),
        (e: Error) => log.warn(`alert not sent: ${e.name === 'WebhookError' ? e.message : e.name}`),
      );
  }
  const history = config.tiers.bigquery?.history;
  if (bigquery && history && result.days.length > 0) {
    throwIfAborted(signal);
    const { historyRows } = await import('./report/history.js');
    await bigquery.writeHistory(
      history.table,
      historyRows(result.days, run, config.tiers.kafka ? Object.keys(config.tiers.kafka.clusters) : []),
      signal,
    );
    log.info(`history: ${result.days.length} days written to ${history.table}`);
  }
  // A terminal has the summary table; a log collector gets one closing line to alert on.
  if (json) log.info('run finished', { command, days: result.days.length, exit_code: result.exitCode });
  process.exitCode = result.exitCode;
}

/** The terminal's width for the summary table: stdout's columns, else $COLUMNS, else the table's default (100). */
function terminalWidth(): number | undefined {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}

/**
 * One self-contained HTML report for the run's days, beside the CSVs: report-FIRST_LAST.html. A
 * resumed backfill's covers its whole range: the days it skipped are read back from their reports.
 */
async function writeHtml(
  result: ReconcileResult,
  config: Config,
  outDir: string,
  title: string,
  signal?: AbortSignal,
): Promise<string | null> {
  const days = [...(result.earlier ?? []), ...result.days.map((d) => ({ day: d.day, rows: d.rows }))].sort((a, b) =>
    a.day < b.day ? -1 : a.day > b.day ? 1 : 0,
  );
  if (days.length === 0) return null;
  const [{ renderHtmlReport }, { writeFileAtomic }, path] = await Promise.all([
    import('./report/html.js'),
    import('./report/writer.js'),
    import('node:path'),
  ]);
  const first = days[0]!.day;
  const last = days.at(-1)!.day;
  const file = path.join(outDir, `report-${first}_${last}.html`);
  const html = renderHtmlReport({
    title: `Audit parity — ${title}`,
    days,
    sites: config.sites,
    thresholds: config.thresholds,
  });
  await writeFileAtomic(file, [html], signal);
  return file;
}

/**
 * Before anything is read: the local output folder must be a folder reports can be written to
 * (exit 2 naming the flag otherwise), and what a killed run of this job left there and in the temp
 * folder (temporary files, scratch folders of processes that are gone) is removed.
 */
async function prepareOutput(opts: CommonOptions, config: Config, log: Logger): Promise<void> {
  const [{ assertWritableFolder, removeStaleTemporaries }, os] = await Promise.all([
    import('./report/writer.js'),
    import('node:os'),
  ]);
  const [flag, dir] = opts.out.startsWith('gs://') ? ['--local-out', opts.localOut] : ['--out', opts.out];
  try {
    await assertWritableFolder(dir);
  } catch (e) {
    if (e instanceof OutputError)
      throw new UsageError(flag, `"${dir}" cannot hold the reports: ${e.reason} (${e.code})`);
    throw e;
  }
  const removed = await removeStaleTemporaries(dir, config.engine.tempDirectory ?? os.tmpdir());
  if (removed.length > 0)
    log.info(`removed ${removed.length} leftovers of runs that were killed: ${removed.join(', ')}`, { removed });
}

/** The BigQuery tier from its config; credentials from Application Default Credentials. */
async function openBigquery(config: Config) {
  return openTable(config.tiers.bigquery!, 'landed');
}

/** The proxy's BigQuery table (tiers.proxy.bigquery). */
async function openProxyTable(config: Config) {
  return openTable(config.tiers.proxyBigquery!, 'proxy');
}

async function openTable(
  bq: NonNullable<Config['tiers']['bigquery'] | Config['tiers']['proxyBigquery']>,
  kind: 'landed' | 'proxy',
) {
  const { createBigqueryTier } = await import('./tiers/bigquery.js');
  return createBigqueryTier({
    kind,
    table: bq.table,
    columns: bq.columns,
    ...(bq.projectId ? { projectId: bq.projectId } : {}),
    ...(bq.location ? { location: bq.location } : {}),
    ...(bq.apiEndpoint ? { apiEndpoint: bq.apiEndpoint } : {}),
    maximumBytesBilled: bq.maximumBytesBilled,
    partitionMarginDays: bq.partitionMarginDays,
  });
}

/**
 * `--out DIR`, or `--out gs://bucket/prefix/`: then the reports are written to `--local-out` first
 * and each day's files are uploaded once written (one request each: a reader sees the old object
 * or the new one). Upload failures are TierErrors for `--out`: exit 3.
 */
async function outputOf(
  opts: CommonOptions,
  config: Config,
  signal: AbortSignal,
): Promise<{ outDir: string; publish?: (files: string[]) => Promise<void> }> {
  if (!opts.out.startsWith('gs://')) return { outDir: opts.out };
  const { parseGsUrl, createStorageClient, writeGcsObject } = await import('./storage/gcs-store.js');
  const target = parseGsUrl(opts.out);
  if (!target) throw new UsageError('--out', `"${opts.out}" is not gs://bucket/prefix/`);
  const prefix = target.name === '' || target.name.endsWith('/') ? target.name : `${target.name}/`;
  const storage = createStorageClient(config.gcs);
  const path = await import('node:path');
  return {
    outDir: opts.localOut,
    publish: async (files) => {
      for (const f of files)
        await writeGcsObject(storage, target.bucket, `${prefix}${path.basename(f)}`, f, { signal });
    },
  };
}

const outOptions = (cmd: Command): Command =>
  cmd
    .option('--out <dir>', 'output folder, or gs://bucket/prefix/ to upload the reports there too', 'reports')
    .option('--local-out <dir>', 'with --out gs://…: the local folder the reports are written to first', 'reports');

function buildProgram(signal: AbortSignal): Command {
  const program = new ParityCommand('parity')
    .description('Counts audit events at every tier of the logging pipeline and explains every gap.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();

  summaryOptions(outOptions(program.command('reconcile')))
    .description(
      'reconcile every configured tier for a day or a range of days and write the parity and missing reports',
    )
    .requiredOption('--config <file>', 'config file, JSON or YAML (required)')
    .option('--date <YYYY-MM-DD>', 'one day')
    .option('--from <YYYY-MM-DD>', 'first day of a range (with --to, both included)')
    .option('--to <YYYY-MM-DD>', 'last day of a range')
    .option('--sites <list>', 'report only these configured sites, comma-separated, e.g. US,CA')
    .option('--dry-run', 'print each BigQuery query with its estimated bytes, and read nothing', false)
    .addOption(logFormatOption())
    .option('--quiet', 'print no progress, only warnings and errors', false)
    .action(
      async (opts: CommonOptions & { date?: string; from?: string; to?: string; sites?: string; dryRun: boolean }) => {
        const [{ resolveDays, resolveSites }, { runReconcile }] = await Promise.all([
          import('./args.js'),
          import('../jobs/reconcile.js'),
        ]);
        const days = resolveDays(opts);
        if (opts.dryRun) {
          const [{ loadConfig }, { planQueries, renderPlan }] = await Promise.all([
            import('./config.js'),
            import('../jobs/dry-run.js'),
          ]);
          const config = await loadConfig(opts.config);
          const [bigquery, proxyTable] = await Promise.all([
            config.tiers.bigquery ? openBigquery(config) : undefined,
            config.tiers.proxyBigquery ? openProxyTable(config) : undefined,
          ]);
          const plans = await planQueries({
            config,
            days,
            ...(bigquery ? { bigquery } : {}),
            ...(proxyTable ? { proxyTable } : {}),
          });
          process.stdout.write(renderPlan(plans, config.engine.kind));
          return;
        }
        await runJob(
          opts,
          'reconcile',
          signal,
          async ({ config, log, run, onDay, kafka, bigquery, proxyTable, outDir, publish }) => {
            const sites = resolveSites(opts.sites, config.sites);
            return runReconcile({
              config,
              days,
              outDir,
              ...(publish ? { publish } : {}),
              ...(sites ? { sites } : {}),
              ...(kafka ? { kafka } : {}),
              ...(bigquery ? { bigquery } : {}),
              ...(proxyTable ? { proxyTable } : {}),
              signal,
              log,
              run,
              onDay,
            });
          },
          () => days.length,
        );
      },
    );

  summaryOptions(outOptions(program.command('daily')))
    .description(
      'the scheduled run: yesterday in the configured zone, plus a re-check of jobs.lateDays days before it, saying which days late records restated',
    )
    .requiredOption('--config <file>', 'config file, JSON or YAML (required)')
    .option('--as-of <YYYY-MM-DD>', 'run as if today were this day (default: today in the configured zone)')
    .addOption(logFormatOption())
    .option('--quiet', 'print no progress, only warnings and errors', false)
    .action(async (opts: CommonOptions & { asOf?: string }) => {
      const [{ runDaily }, { explainBadDay }] = await Promise.all([import('../jobs/daily.js'), import('./dates.js')]);
      const badDay = opts.asOf === undefined ? null : explainBadDay(opts.asOf);
      if (badDay) throw new UsageError('--as-of', badDay);
      await runJob(
        opts,
        'daily',
        signal,
        async ({ config, log, run, onDay, note, now, kafka, bigquery, proxyTable, outDir, publish }) => {
          // --as-of is the day itself, in the configured zone: no instant to convert.
          const result = await runDaily({
            config,
            now,
            ...(opts.asOf ? { today: opts.asOf } : {}),
            outDir,
            ...(publish ? { publish } : {}),
            ...(kafka ? { kafka } : {}),
            ...(bigquery ? { bigquery } : {}),
            ...(proxyTable ? { proxyTable } : {}),
            signal,
            log,
            run,
            onDay,
          });
          if (result.restated.length > 0) note(`restated by late data: ${result.restated.join(', ')}`);
          return result;
        },
        (config) => config.jobs.lateDays + 1,
      );
    });

  summaryOptions(outOptions(program.command('backfill')))
    .description(
      'reconcile a long range, resumably: days whose reports are current (same version and config, files intact) are skipped',
    )
    .requiredOption('--config <file>', 'config file, JSON or YAML (required)')
    .requiredOption('--from <YYYY-MM-DD>', 'first day (included)')
    .requiredOption('--to <YYYY-MM-DD>', 'last day (included)')
    .option('--force', 'redo days whose reports are current', false)
    .option('--concurrency <n>', 'batches of days reconciled at once (1-4; each holds its own memory limit)', '1')
    .addOption(logFormatOption())
    .option('--quiet', 'print no progress, only warnings and errors', false)
    .action(async (opts: CommonOptions & { from: string; to: string; force: boolean; concurrency: string }) => {
      const [{ resolveDays }, { runBackfill, MAX_BACKFILL_CONCURRENCY }] = await Promise.all([
        import('./args.js'),
        import('../jobs/backfill.js'),
      ]);
      const days = resolveDays(opts);
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_BACKFILL_CONCURRENCY) {
        throw new UsageError(
          '--concurrency',
          `"${opts.concurrency}" is not a whole number from 1 to ${MAX_BACKFILL_CONCURRENCY}`,
        );
      }
      await runJob(
        opts,
        'backfill',
        signal,
        async ({ config, log, run, onDay, note, kafka, bigquery, proxyTable, outDir, publish }) => {
          const result = await runBackfill({
            config,
            days,
            outDir,
            force: opts.force,
            concurrency,
            ...(publish ? { publish } : {}),
            ...(kafka ? { kafka } : {}),
            ...(bigquery ? { bigquery } : {}),
            ...(proxyTable ? { proxyTable } : {}),
            run,
            signal,
            log,
            onDay,
          });
          if (result.skipped.length > 0) note(`skipped ${result.skipped.length} current days (--force redoes them)`);
          return result;
        },
        () => days.length,
      );
    });

  program
    .command('demo')
    .description(
      "make a week of sample data holding every cause the proxy and gcs tiers show (Kafka's need brokers), reconcile it and write the reports",
    )
    .option('--out <dir>', 'output folder', 'reports')
    .action(async (opts: { out: string }) => {
      const [{ runDemo }, { renderSummaryTable }] = await Promise.all([
        import('../jobs/demo.js'),
        import('./report/summary.js'),
      ]);
      const result = await runDemo({ outDir: opts.out, signal });
      const { loadConfig } = await import('./config.js');
      const html = await writeHtml(result, await loadConfig(result.configFile), opts.out, 'demo');
      process.stdout.write(renderSummaryTable(result.days, { width: terminalWidth() }));
      process.stdout.write(`\nsample data and its config: ${result.dataDir}/ (${result.configFile})\n`);
      process.stdout.write(
        `reports: ${opts.out}/parity-YYYY-MM-DD.csv, ${opts.out}/missing-YYYY-MM-DD.csv (${result.days.length} days)\n`,
      );
      process.stdout.write(`for reading: ${html ?? '-'} (open it in a browser)\n`);
      process.stdout.write(
        `re-run on the same data: npx parity reconcile --config ${result.configFile} --from ${result.days[0]?.day} --to ${result.days.at(-1)?.day} --out ${opts.out}\n`,
      );
      // The sample holds losses on purpose: FAIL rows are the demo working. Only an ERROR is a failure here.
      if (result.exitCode === 1)
        process.stdout.write(
          `(reconcile would exit 1 here: the rows under worst_rows FAIL, as the sample's injected losses intend)\n`,
        );
      process.exitCode = result.exitCode === 3 ? 3 : 0;
    });
  for (const cmd of [program, ...program.commands]) withHelpEpilogue(cmd);
  return program;
}

/** The one top-level catch: maps errors to the contract's exit codes. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  // Every staged object listens for the abort while it is read: many at once is expected.
  setMaxListeners(0, controller.signal);
  let stoppedBy: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    stoppedBy = sig;
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await buildProgram(controller.signal).parseAsync(argv);
    if (stoppedBy) throw new AbortedError();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return EXIT.ok;
      return EXIT.usage; // commander printed the message
    }
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof TierError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT.tier;
    }
    if (e instanceof OutputError) {
      process.stderr.write(
        `error: ${e.message}; its previous version, and the rest of that day's reports, are left as they were\n`,
      );
      return EXIT.output;
    }
    if (e instanceof AbortedError || stoppedBy) {
      process.stderr.write(`${new AbortedError().message}\n`);
      return stoppedBy === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
    }
    process.stderr.write(`internal error (a bug, please report): ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const code = await main(process.argv);
process.exitCode = code;
// A client library that keeps a socket or timer alive must not keep a finished run from exiting.
setTimeout(() => process.exit(code), 2000).unref();
