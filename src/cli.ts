import { setMaxListeners } from 'node:events';
import { type Command, CommanderError } from 'commander';
import { resolveConcurrency, resolveDays } from './args.js';
import { common, homeProblem, jobCommand, once, ParityCommand, VERSION, withHelpEpilogue } from './command.js';
import { explainBadDay } from './dates.js';
import type { DayKey } from './domain.js';
import { AbortedError, ConfigError, OutputError, ResourceError, TierError, UsageError } from './errors.js';
import { EXIT } from './exit.js';
import { forceExit } from './forced-exit.js';
import { oneLine } from './log/logger.js';

/** What every job command (reconcile, daily, backfill) shares. */
export interface JobOptions {
  config: string;
  out: string;
  localOut: string;
  logFormat: 'auto' | 'text' | 'json';
  quiet: boolean;
  /** What is printed on stdout at the end; none given: the table on a terminal, nothing beside JSON logs. */
  format?: 'table' | 'json' | 'csv';
  onlyFailing: boolean;
  /** false with --no-history: the run writes no history rows. */
  history: boolean;
  /** false with --no-alert: the run sends no webhook alert. */
  alert: boolean;
  /** --local-out was given on the command line (not its default). */
  localOutGiven?: boolean;
}

/** One command line, checked: what jobs/main.ts runs. --sites is checked against the config, once it is read. */
export type CliRequest =
  | {
      command: 'reconcile';
      options: JobOptions;
      days: DayKey[];
      sites?: string;
      dryRun: boolean;
      /** The flag that named the last day: a refusal of it names the flag given. */
      lastDayFlag?: '--date' | '--to';
    }
  | { command: 'daily'; options: JobOptions; asOf?: DayKey }
  | { command: 'backfill'; options: JobOptions; days: DayKey[]; force: boolean; concurrency: number }
  | { command: 'demo'; out: string };

/** A job command's request (reconcile, daily, backfill): what jobs/main.ts runs after the config is read. */
export type JobRequest = Exclude<CliRequest, { command: 'demo' }>;

/** Whether a job logs JSON lines: --log-format json, or auto off a terminal (a log collector reads stderr). */
export const logsJson = (format: JobOptions['logFormat']): boolean =>
  format === 'json' || (format === 'auto' && !process.stderr.isTTY);

/** Runs a request; resolves to the exit status of a run that finished (0, 1 or 3), throws otherwise. */
export type RunRequest = (request: CliRequest, signal: AbortSignal) => Promise<number>;

/** A job's error as its JSON log has it: severity ERROR, with the exit code. */
const errorLine = (message: string, code: number, fields: Record<string, unknown> = {}): string =>
  `${JSON.stringify({
    severity: 'ERROR',
    time: new Date().toISOString(),
    message: oneLine(message),
    exit_code: code,
    ...fields,
  })}\n`;

/**
 * Whether a job command logs JSON, from the command line alone: read before it is parsed, so that a
 * wrong flag of a CronJob's run is a JSON ERROR line too, not plain text among JSON lines.
 */
function argvLogsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  if (!['reconcile', 'daily', 'backfill'].includes(args[0] ?? '')) return false;
  const at = args.indexOf('--log-format');
  const value = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith('--log-format='))?.split('=')[1];
  return logsJson(value === 'json' || value === 'text' ? value : 'auto');
}

function buildProgram(run: (request: CliRequest) => Promise<void>, json: () => boolean): Command {
  const program = new ParityCommand('parity')
    .description('Counts audit events at every tier of the logging pipeline and explains every gap.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    // Beside JSON logs commander's error is a JSON line, and the help it prints after it for a person is left out.
    .configureOutput({
      writeErr: (text) => (json() ? undefined : process.stderr.write(text)),
      outputError: (text, write) =>
        json()
          ? // commander's lines ("(Did you mean --config?)") as one, not joined by an escaped newline
            process.stderr.write(
              errorLine(
                text
                  .replace(/^error: /, '')
                  .trim()
                  .replace(/\s*\n\s*/g, ' '),
                EXIT.usage,
              ),
            )
          : write(text),
    });

  const reconcile = jobCommand(
    program,
    'reconcile',
    'reconcile every configured tier for a day or a range of days and write the parity and missing reports',
  )
    .option('--date <YYYY-MM-DD>', 'one day', once())
    .option('--from <YYYY-MM-DD>', 'first day of a range (with --to, both included)', once())
    .option('--to <YYYY-MM-DD>', 'last day of a range', once())
    .option('--sites <list>', 'report only these configured sites, comma-separated, e.g. US,CA', once())
    .option('--dry-run', 'print each BigQuery query with its estimated bytes, and read nothing', false)
    .usage('--config FILE (--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD) [options]');
  common(reconcile).action(
    (opts: JobOptions & Record<'date' | 'from' | 'to' | 'sites', string> & { dryRun: boolean }) => {
      const { date, from, to, sites, dryRun, ...options } = opts;
      const days = resolveDays({ date, from, to });
      const lastDayFlag = date !== undefined ? '--date' : '--to';
      return run({
        command: 'reconcile',
        options,
        days,
        ...(sites !== undefined ? { sites } : {}),
        dryRun,
        lastDayFlag,
      });
    },
  );

  const daily = jobCommand(
    program,
    'daily',
    "the scheduled run: yesterday in the configured zone (the earliest yesterday of the sites' own zones, " +
      'so that it is over for every site), plus a re-check of jobs.lateDays days before it, ' +
      'saying which days late records restated, and earlier days (jobs.catchUpDays) whose report is ERROR or missing',
  )
    .option(
      '--as-of <YYYY-MM-DD>',
      "run as if today were this day (default: today in the configured zone, or the earliest of the sites' zones)",
      once(),
    )
    .usage('--config FILE [options]');
  common(daily).action(({ asOf, ...options }: JobOptions & { asOf?: string }) => {
    const badDay = asOf === undefined ? null : explainBadDay(asOf);
    if (badDay) throw new UsageError('--as-of', badDay);
    return run({ command: 'daily', options, ...(asOf ? { asOf } : {}) });
  });

  const backfill = jobCommand(
    program,
    'backfill',
    'reconcile a long range, resumably: days whose reports are current (same version and config, files intact) ' +
      'are skipped',
  )
    .requiredOption('--from <YYYY-MM-DD>', 'first day (included)', once())
    .requiredOption('--to <YYYY-MM-DD>', 'last day (included)', once())
    .option('--force', 'redo days whose reports are current', false)
    .option(
      '--concurrency <n>',
      'batches of days reconciled at once (1-4; each holds its own memory limit; default 1)',
      once(),
    )
    .usage('--config FILE --from YYYY-MM-DD --to YYYY-MM-DD [options]');
  common(backfill).action((opts: JobOptions & { from: string; to: string; force: boolean; concurrency?: string }) => {
    const { from, to, force, concurrency = '1', ...options } = opts;
    const days = resolveDays({ from, to });
    return run({ command: 'backfill', options, days, force, concurrency: resolveConcurrency(concurrency) });
  });

  program
    .command('demo')
    .description(
      "make a week of sample data holding every cause the proxy and gcs tiers show (Kafka's need brokers), " +
        'reconcile it and write the reports',
    )
    .option('--out <dir>', 'output folder', once(homeProblem), 'reports')
    .action((opts: { out: string }) => {
      // demo writes a local folder only: gs://b/x became the folder gs:/b/x, and the re-run command it
      // printed would have uploaded to the bucket.
      if (/^[a-z][a-z0-9+.-]*:\//i.test(opts.out))
        throw new UsageError('--out', `"${opts.out}": demo writes its sample data and reports to a local folder`);
      return run({ command: 'demo', out: opts.out });
    });
  for (const cmd of [program, ...program.commands]) withHelpEpilogue(cmd);
  return program;
}

/** Parses `argv`, runs the request, and is the one top-level catch: maps errors to the contract's exit codes. */
export async function main(argv: string[], runRequest: RunRequest): Promise<number> {
  const controller = new AbortController();
  // Every staged object listens for the abort while it is read: many at once is expected.
  setMaxListeners(0, controller.signal);
  let stoppedBy: NodeJS.Signals | null = null;
  // The first signal stops the run cleanly: in-flight reads abort, nothing partial is committed, the lease
  // is let go. A second one (an impatient Ctrl-C, a pod's SIGTERM then the kubelet's second) ends the
  // process at once, as a terminal user expects, after the synchronous steps that keep the next run from
  // waiting (the local lease removed); the temporary files left are swept by the next run.
  const onSignal = (sig: NodeJS.Signals) => {
    if (stoppedBy) {
      const code = sig === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
      forceExit(() => {
        fail(code, '', `${sig} again: stopped at once, without the clean stop; nothing partial was committed`);
        process.exit(code);
      });
      return;
    }
    stoppedBy = sig;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that goes away (`| head`, a closed terminal, a log shipper that died) must not end the run,
  // nor set its exit status: unhandled, the EPIPE crashed it with exit 1 (FAIL's), before its reports or
  // after them but before the alert. What was left to print is dropped; the files, history and alert stand.
  for (const stream of [process.stdout, process.stderr])
    if (stream.listenerCount('error') === 0) stream.on('error', () => {});
  // A job's last word is a log line like its others: JSON ones (severity ERROR, with the exit code) where
  // its log is JSON, so that an alert on ERROR lines sees a run that ended without its reports.
  let json = argvLogsJson(argv);
  const fail = (code: number, prefix: string, message: string, fields: Record<string, unknown> = {}): number => {
    process.stderr.write(json ? errorLine(message, code, fields) : `${prefix}${oneLine(message)}\n`);
    return code;
  };
  try {
    let code: number = EXIT.ok;
    await buildProgram(
      async (request) => {
        if ('options' in request) json = logsJson(request.options.logFormat);
        code = await runRequest(request, controller.signal);
      },
      () => json,
    ).parseAsync(argv);
    if (stoppedBy) throw new AbortedError();
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
      // `parity` with no command, or `parity help bogus`: the help, on stderr, for a usage error (exit 2).
      if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return EXIT.usage; // commander printed the message
    }
    if (e instanceof UsageError || e instanceof ConfigError) return fail(EXIT.usage, 'error: ', e.message);
    if (e instanceof TierError || (e instanceof ResourceError && !stoppedBy))
      return fail(e instanceof TierError ? EXIT.tier : EXIT.resources, 'error: ', e.message);
    if (e instanceof OutputError) return fail(EXIT.output, 'error: ', `${e.message}; ${e.kept}`);
    if (e instanceof AbortedError || stoppedBy)
      return fail(stoppedBy === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint, '', new AbortedError().message);
    const bug = 'internal error (a bug, please report): ';
    // A bug's stack keeps its lines: written as they are, the control characters of its message escaped.
    if (!json) {
      const frames = ((e as Error).stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
      process.stderr.write([`${bug}${oneLine(String(e))}`, ...frames].join('\n') + '\n');
      return EXIT.internal;
    }
    return fail(EXIT.internal, '', `${bug}${String(e)}`, { stack: (e as Error).stack ?? null });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
