#!/usr/bin/env node
import { setMaxListeners } from 'node:events';
import { Command, CommanderError, Option } from 'commander';
import { AbortedError, ConfigError, TierError, UsageError } from './errors.js';
import { textLogger } from './log/logger.js';

/** Exit statuses: the contract's 0–3, then ours. */
export const EXIT = { ok: 0, fail: 1, usage: 2, tier: 3, internal: 4, aborted: 130 } as const;

function buildProgram(signal: AbortSignal): Command {
  const program = new Command('parity')
    .description('Counts audit events at every tier of the logging pipeline and explains every gap.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('reconcile')
    .description('reconcile every configured tier for a day or a range of days and write the parity and missing reports')
    .requiredOption('--config <file>', 'config file, JSON or YAML')
    .option('--date <YYYY-MM-DD>', 'one day')
    .option('--from <YYYY-MM-DD>', 'first day of a range (with --to, both included)')
    .option('--to <YYYY-MM-DD>', 'last day of a range')
    .option('--out <dir>', 'output folder', 'reports')
    .option('--sites <list>', 'report only these configured sites, comma-separated, e.g. US,CA')
    .addOption(new Option('--quiet', 'print no progress').default(false))
    .action(async (opts: { config: string; date?: string; from?: string; to?: string; out: string; sites?: string; quiet: boolean }) => {
      const [{ loadConfig }, { resolveDays, resolveSites }, { runReconcile }, { renderSummaryTable }] = await Promise.all([
        import('./config.js'),
        import('./args.js'),
        import('../jobs/reconcile.js'),
        import('./report/summary.js'),
      ]);
      const days = resolveDays(opts);
      const config = await loadConfig(opts.config);
      const sites = resolveSites(opts.sites, config.sites);
      const log = textLogger();
      const result = await runReconcile({ config, days, outDir: opts.out, ...(sites ? { sites } : {}), signal, ...(opts.quiet ? {} : { log }) });
      process.stdout.write(renderSummaryTable(result.days));
      process.stdout.write(`reports written to ${opts.out}/\n`);
      for (const e of result.errors) process.stderr.write(`ERROR ${e}\n`);
      process.exitCode = result.exitCode;
    });

  program
    .command('demo')
    .description('make a week of sample data with every cause present, reconcile it and write the reports')
    .option('--out <dir>', 'output folder', 'reports')
    .action(async (opts: { out: string }) => {
      const [{ runDemo }, { renderSummaryTable }] = await Promise.all([import('../jobs/demo.js'), import('./report/summary.js')]);
      const result = await runDemo({ outDir: opts.out, signal });
      process.stdout.write(renderSummaryTable(result.days));
      process.stdout.write(`\nsample data and its config: ${result.dataDir}/ (${result.configFile})\n`);
      process.stdout.write(`reports: ${result.days.map((d) => d.parityFile).join(', ')}\n`);
      process.stdout.write(`missing request ids: ${opts.out}/missing-YYYY-MM-DD.csv\n`);
      process.stdout.write(`re-run on the same data: npx parity reconcile --config ${result.configFile} --from ${result.days[0]?.day} --to ${result.days.at(-1)?.day} --out ${opts.out}\n`);
      // The sample holds losses on purpose: FAIL rows are the demo working. Only an ERROR is a failure here.
      if (result.exitCode === 1) process.stdout.write(`(reconcile would exit 1 here: some rows FAIL, as the sample's injected losses intend)\n`);
      process.exitCode = result.exitCode === 3 ? 3 : 0;
    });
  return program;
}

/** The one top-level catch: maps errors to the contract's exit codes. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  // Every staged object listens for the abort while it is read: many at once is expected.
  setMaxListeners(0, controller.signal);
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await buildProgram(controller.signal).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
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
    if (e instanceof AbortedError) {
      process.stderr.write(`${e.message}\n`);
      return EXIT.aborted;
    }
    process.stderr.write(`internal error (a bug, please report): ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

process.exit(await main(process.argv));
