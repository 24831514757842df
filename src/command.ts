import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';

export const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The CLI's commander class. Commander checks required options before unknown ones, so
 * `--confg x` used to say "required option '--config' not specified" and never suggest the
 * flag that was meant: an unknown option is the better error, with commander's own
 * "Did you mean --config?".
 */
export class ParityCommand extends Command {
  override createCommand(name?: string): ParityCommand {
    return new ParityCommand(name);
  }

  /** Commander's hook for a missing required option (internal to commander, so not in its typings). */
  missingMandatoryOptionValue(option: unknown): never {
    const internals = Command.prototype as unknown as CommanderInternals;
    const unknown = this.args.find((a) => a.startsWith('-'));
    if (unknown) internals.unknownOption.call(this, unknown.split('=')[0]!);
    return internals.missingMandatoryOptionValue.call(this, option);
  }
}

interface CommanderInternals {
  unknownOption(this: Command, flag: string): never;
  missingMandatoryOptionValue(this: Command, option: unknown): never;
}

/** The exit statuses, as `--help` prints them (the README's table says the same). */
export const EXIT_HELP = `
Exit status:
  0    every row is PASS or WARN
  1    at least one row is FAIL or NO_DATA
  2    usage or configuration error; nothing was read (the message names the flag or key path)
  3    a tier could not be read or an object is corrupt: reports written, affected rows ERROR
  4    an internal error (a bug: please report it)
  5    a report could not be written (a full disk, or another run holds the output): the message names the
       file or the other run; old reports kept
  6    the engine ran out of its memory limit: the message names engine.memoryLimit and engine.batchDays
  130  stopped by SIGINT, 143 by SIGTERM: no partial report`;

/** Examples shown after each command's options in `--help`. */
export const EXAMPLES: Readonly<Record<string, string>> = {
  parity: `
Examples:
  parity demo                                              sample data, reconciled, into reports/
  parity reconcile --config parity.yaml --date 2025-03-09
  parity daily --config parity.yaml --out gs://audit-parity-reports/daily/
  parity backfill --config parity.yaml --from 2025-01-01 --to 2025-03-31 --concurrency 2
  parity reconcile --help                                  every option of one command`,
  reconcile: `
Examples:
  parity reconcile --config parity.yaml --date 2025-03-09
  parity reconcile --config parity.yaml --from 2025-03-01 --to 2025-03-09 --out /tmp/incident
  parity reconcile --config parity.yaml --date 2025-03-09 --sites US,CA --dry-run`,
  daily: `
Examples:
  parity daily --config parity.yaml                        yesterday, plus jobs.lateDays re-checked, plus
                                                           earlier days (jobs.catchUpDays) whose report is
                                                           ERROR or missing
  parity daily --config parity.yaml --as-of 2025-03-10     as if today were 2025-03-10`,
  backfill: `
Examples:
  parity backfill --config parity.yaml --from 2025-01-01 --to 2025-03-31
  parity backfill --config parity.yaml --from 2025-01-01 --to 2025-01-31 --force`,
  demo: `
Examples:
  parity demo
  parity demo --out /tmp/parity-demo`,
};

/** Adds the examples and the exit statuses after the options of `cmd`'s help. */
export function withHelpEpilogue(cmd: Command): Command {
  const examples = EXAMPLES[cmd.name()] ?? '';
  return cmd.addHelpText('after', cmd.name() === 'demo' ? examples : `${examples}\n${EXIT_HELP}`);
}

export const logFormatOption = () =>
  new Option('--log-format <format>', 'text on a terminal, JSON lines (Cloud Logging) otherwise')
    .choices(['auto', 'text', 'json'])
    .argParser(once(oneOf(['auto', 'text', 'json'])))
    .default('auto');

/** --format and --only-failing: the end-of-run summary, for a person or a script. */
export const summaryOptions = (cmd: Command): Command =>
  cmd
    .addOption(
      new Option(
        '--format <format>',
        "the summary printed at the end: per day the worst status, ALL's parity, the leading cause and the rows " +
          'behind it (default: table on a terminal)',
      )
        .choices(['table', 'json', 'csv'])
        .argParser(once(oneOf(['table', 'json', 'csv']))),
    )
    .option('--only-failing', 'print only the days and rows that are not PASS', false);

export const outOptions = (cmd: Command): Command =>
  cmd
    .option(
      '--out <dir>',
      'output folder, or gs://bucket/prefix/ to upload the reports there too',
      once(outLocationProblem),
      'reports',
    )
    .option(
      '--local-out <dir>',
      'with --out gs://…: the local folder the reports are written to first',
      once((v) =>
        /^[a-z][a-z0-9+.-]*:\//i.test(v) ? `"${v}" is no local folder (the reports go up to --out)` : homeProblem(v),
      ),
      'reports',
    );

/**
 * An option's value parser that refuses the option a second time: `--date A --date B` ran B alone. It
 * counts what it was given itself: commander hands an option's default to the parser as the previous
 * value, so that cannot tell a second `--out` from the first. A new one for each option of each program.
 */
export function once(check?: (value: string) => string | null): (value: string) => string {
  let first: string | undefined;
  return (value) => {
    if (first !== undefined) throw new InvalidArgumentError(`given twice ("${first}", then "${value}"): give it once`);
    // `--out --quiet`: the option's value is missing, and the next flag would be taken for it (a folder
    // named --quiet). A value that really begins so is written ./--quiet.
    if (/^--[a-z]/.test(value)) throw new InvalidArgumentError(`its value is missing ("${value}" is the next option)`);
    const problem = check?.(value);
    if (problem) throw new InvalidArgumentError(problem);
    first = value;
    return value;
  };
}

/** A check for once(): the value is one of `choices` (commander's own choices check, which once() replaces). */
const oneOf =
  (choices: readonly string[]) =>
  (value: string): string | null =>
    choices.includes(value) ? null : `Allowed choices are ${choices.join(', ')}.`;

/**
 * --out's value: a folder, or gs://bucket/prefix/. Anything else with a scheme (gs:/x, GS://x, gcs://x,
 * s3://x) is a typo of a bucket that would have put the reports in a local folder of that name, lost
 * with the pod while the run succeeds.
 */
export function outLocationProblem(value: string): string | null {
  if (value.startsWith('gs://')) return null;
  if (/^[a-z][a-z0-9+.-]*:\//i.test(value))
    return (
      `"${value}" is neither a folder nor gs://bucket/prefix/ ` +
      '(a bucket is written gs:// in lower case, two slashes)'
    );
  return homeProblem(value);
}

/**
 * A folder written with a leading ~ that no shell expanded (`--out=~/x`, a Kubernetes arg): it would be a folder
 * named ~ in the working directory, while the run says it wrote to ~/x.
 */
export function homeProblem(value: string): string | null {
  return /^~([/\\]|$)/.test(value) ? `"${value}": ~ is not expanded here; write the folder's absolute path` : null;
}

/** A job command (reconcile, daily, backfill): --out, --local-out, the summary's options and --config. */
export const jobCommand = (program: Command, name: string, description: string): Command =>
  summaryOptions(outOptions(program.command(name)))
    .description(description)
    .requiredOption('--config <file>', 'config file, JSON or YAML (required)', once())
    .option(
      '--no-history',
      'write no rows to the BigQuery history (tiers.bigquery.history): for a run into a folder of its own (an ' +
        "incident's, a test's), whose rows would replace the scheduled run's there",
    )
    .option(
      '--no-alert',
      "send no webhook alert (alerts.webhookUrlEnv): for an engineer's run by hand, whose alert would go to " +
        "the scheduled run's channel, or where the variable is not set (else a warning says so as the run begins)",
    )
    // Whether --local-out was given, not defaulted: with a local --out it is unused, which the run says.
    .hook('preAction', (cmd) => {
      cmd.setOptionValue('localOutGiven', cmd.getOptionValueSource('localOut') === 'cli');
    });

/** After a job command's own options: --log-format and --quiet. */
export const common = (cmd: Command): Command =>
  cmd.addOption(logFormatOption()).option('--quiet', 'print no progress, only warnings and errors', false);
