import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildAlert, postWebhook, webhookProblem } from '../src/alerts/webhook.js';
import type { Config } from '../src/config.js';
import type { DayKey, DaySummary, LossWindow, ParityRow, ReconcileResult } from '../src/domain.js';
import { AbortedError, OutputError, throwIfAborted } from '../src/errors.js';
import type { Logger } from '../src/log/logger.js';
import { historyRows, historyTypes } from '../src/report/history.js';
import { htmlReportChunks } from '../src/report/html/report.js';
import type { RunMetadata } from '../src/report/manifest.js';
import { renderSummaryCsv, renderSummaryJson } from '../src/report/summary-docs.js';
import { renderSummaryTable } from '../src/report/summary.js';
import { parseWindowsCsv } from '../src/report/windows-reader.js';
import { writeFileAtomic } from '../src/report/writer.js';
import type { HistoryWriter } from '../src/report/history-writer.js';
import { zoneOfSite } from '../src/site-zones.js';

/** What a finished run hands on to the work after it. */
export interface FinishRequest {
  result: ReconcileResult;
  config: Config;
  /** The command (reconcile, daily, backfill): the HTML report's title and the closing log line's. */
  command: string;
  run: RunMetadata;
  /** --out as given, and the local folder the reports are in (--local-out when --out is gs://). */
  out: string;
  outDir: string;
  publish?: (files: string[]) => Promise<void>;
  /** The summary on stdout; null: none (beside JSON logs, unless --format asks). */
  format: 'table' | 'json' | 'csv' | null;
  onlyFailing: boolean;
  /** Logs are JSON lines: the run ends with one line to alert on. */
  json: boolean;
  log: Logger;
  /** The writer of the BigQuery history rows, when tiers.bigquery.history is configured. */
  history?: HistoryWriter;
  /** false with --no-alert: the run sends no alert. */
  alert: boolean;
  /** Where the webhook's URL is read from (the variable alerts.webhookUrlEnv names). */
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
}

/**
 * The work after a run, in this order: the HTML report (uploaded with --out gs://), the summary on
 * stdout, the webhook alert, the BigQuery history rows, the closing log line. A stopped run writes
 * nothing more: no HTML report, no upload, no history, no alert. An HTML report that cannot be written
 * holds nothing else back: the days' reports are written and their verdicts final, so the summary, the
 * alert and the history still go out, and its error ends the run afterwards (exit 5). Returns the run's
 * exit status.
 */
export async function finish(req: FinishRequest): Promise<number> {
  const { result, config, outDir, publish, format, onlyFailing, log, signal } = req;
  throwIfAborted(signal);
  // The days the run reports: a resumed backfill's skipped days too, as its exit status counts them.
  const days = reportedDays(result);
  let htmlFile: string | null = null;
  let htmlError: unknown;
  try {
    htmlFile = await writeHtmlReport(result, config, outDir, req.command, signal, log);
    if (htmlFile && publish) {
      throwIfAborted(signal);
      await publish([htmlFile]);
    }
  } catch (e) {
    if (e instanceof AbortedError || signal.aborted) throw e;
    htmlError = runFileError(e);
    htmlFile = null;
    // Said now: should the history's write fail too, its error ends the run, and this one must not go unsaid.
    log.error(`HTML report not written: ${(htmlError as Error).message ?? String(htmlError)}`);
  }
  if (format === 'table') {
    if (htmlFile) process.stdout.write(`HTML report: ${htmlFile}\n`);
    process.stdout.write(
      renderSummaryTable(days, { width: terminalWidth(), onlyFailing }) +
        `reports written to ${req.out.startsWith('gs://') ? `${outDir}/ and ${req.out}` : `${req.out}/`}\n`,
    );
  } else if (format === 'json') process.stdout.write(renderSummaryJson(days, { onlyFailing }));
  else if (format === 'csv')
    process.stdout.write(renderSummaryCsv(days, { onlyFailing, formulaGuard: config.reports.csvFormulaGuard }));
  await sendAlert(req, days);
  const history = config.tiers.bigquery?.history;
  if (req.history && history && days.length > 0) {
    throwIfAborted(signal);
    const regions = config.tiers.kafka ? Object.keys(config.tiers.kafka.clusters) : [];
    // A day's history rows are its whole report, and a write replaces them: a report of fewer sites
    // (--sites) would erase the others' rows and leave an ALL of only some sites.
    const whole = <T extends { rows: ParityRow[] }>(d: T): boolean => coversEverySite(d.rows, config.sites);
    const partial = days.filter((d) => !whole(d)).map((d) => d.day);
    if (partial.length > 0)
      log.warn(
        `history: ${partial.join(', ')} not written to ${history.table}: the report has only some of the sites ` +
          '(--sites), and would replace the whole day there',
      );
    // A skipped day's rows with the as-of time of the run that made them (a stopped run wrote none).
    const rows = [
      ...historyRows(result.days.filter(whole), req.run, regions),
      ...(result.earlier ?? [])
        .filter(whole)
        .flatMap((d) => historyRows([d], { ...req.run, asOf: d.asOf || req.run.asOf }, regions)),
    ];
    if (rows.length > 0) {
      const refused = await req.history.writeHistory(history.table, rows, signal, historyTypes(regions));
      if (refused.length > 0)
        log.warn(
          `history: ${refused.join(', ')} not written to ${history.table}: it holds rows for them from a run ` +
            'begun after the one that made these reports (as_of), which older rows must not replace',
        );
      log.info(`history: ${days.length - partial.length - refused.length} days written to ${history.table}`);
    }
  }
  if (htmlError !== undefined) throw htmlError;
  // Stopped while the alert or the history went out: the run ends as stopped (130/143), with no closing
  // line that says otherwise.
  throwIfAborted(signal);
  // A terminal has the summary table; a log collector gets one closing line to alert on, as severe as the
  // exit status (an unreadable tier's 3 is an ERROR line, a FAIL's 1 a WARNING), so that --quiet keeps it.
  if (req.json) {
    const level = result.exitCode === 0 ? log.info : result.exitCode === 1 ? log.warn : log.error;
    // The days the run reports, a resumed backfill's skipped ones too, as its exit status counts them.
    level('run finished', { command: req.command, days: days.length, exit_code: result.exitCode });
  }
  return result.exitCode;
}

/** The HTML report's write error, saying what it left: the report is the run's, not a day's. */
function runFileError(e: unknown): unknown {
  if (!(e instanceof OutputError)) return e;
  const kept =
    "its previous version is left as it was; the days' reports were written, and the summary, alert and history the " +
    'run gives were not held back by it';
  return new OutputError(e.file, e.code, e.reason, { cause: e.cause, kept });
}

/** Whether a day's rows hold a row of every configured site (a --sites run's do not). */
function coversEverySite(rows: readonly ParityRow[], sites: readonly string[]): boolean {
  const present = new Set(rows.map((r) => String(r.site)));
  return sites.every((s) => present.has(s));
}

/** Whether a URL carries a user or a password. */

/** Days in day order. */
const byDay = (a: { day: DayKey }, b: { day: DayKey }): number => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0);

/** The run's days in order: those it reconciled, and a resumed backfill's skipped ones read back. */
function reportedDays(result: ReconcileResult): (Pick<DaySummary, 'day' | 'rows'> & Partial<DaySummary>)[] {
  const days: (Pick<DaySummary, 'day' | 'rows'> & Partial<DaySummary>)[] = [...(result.earlier ?? []), ...result.days];
  return days.sort(byDay);
}

/** The webhook alert, when alerts.webhookUrlEnv is set and a row's status is one alerts.on names. */
async function sendAlert(req: FinishRequest, days: ReturnType<typeof reportedDays>): Promise<void> {
  const { config, out, log, env, signal } = req;
  const webhookVar = config.alerts.webhookUrlEnv;
  const alert = buildAlert(days, config.alerts.on, out, config.thresholds);
  if (!webhookVar || !alert || signal.aborted) return;
  if (!req.alert) return log.info('alert: not sent (--no-alert)');
  // Said as the run began (a warning); checked again, since the environment is the process's to change.
  const problem = webhookProblem(webhookVar, env);
  if (problem) log.warn(`alerts.webhookUrlEnv: ${problem}; no alert sent`);
  // The URL carries a token: the message of a failed post names only the status, or the error's name
  // and its errno code (ECONNREFUSED, ENOTFOUND…), never a message that may quote the URL.
  else
    await postWebhook(env[webhookVar]!, alert, signal).then(
      () => log.info('alert sent'),
      (e: Error & { attempts?: number }) =>
        log.warn(
          `alert not sent: ${e.name === 'WebhookError' ? e.message : `${e.name}${codeOf(e)}`}` +
            (e.attempts ? ` (${e.attempts} attempts)` : ''),
        ),
    );
}

/** The terminal's width for the summary table: stdout's columns, else $COLUMNS, else the table's default (100). */
export function terminalWidth(): number | undefined {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}

/**
 * One self-contained HTML report for the run's days, beside the CSVs: report-FIRST_LAST.html, every day
 * from FIRST to LAST. A resumed backfill's covers its whole range: the days it skipped are read back from
 * their reports; so are a catching-up daily's days between those it caught up and its re-check window.
 * Every day's loss windows are read back from its windows-DAY.csv in `outDir` (this run's days and
 * skipped ones alike) for the report's strips.
 */
export async function writeHtmlReport(
  result: ReconcileResult,
  config: Config,
  outDir: string,
  title: string,
  signal?: AbortSignal,
  log?: Logger,
): Promise<string | null> {
  const days = [...reportedDays(result), ...(result.between ?? [])]
    .map((d) => ({ day: d.day, rows: d.rows }))
    .sort(byDay);
  if (days.length === 0) return null;
  const file = path.join(outDir, `report-${days[0]!.day}_${days.at(-1)!.day}.html`);
  const withWindows = [];
  for (const d of days)
    withWindows.push({ ...d, ...(await readDayWindows(outDir, d.day, config.reports.csvFormulaGuard, log)) });
  // The sites the run reported (a --sites run's only): a configured site with no row is not an ERROR.
  const reported = new Set(days.flatMap((d) => d.rows.map((r) => String(r.site))));
  const html = htmlReportChunks({
    title: `Audit parity — ${title}`,
    days: withWindows,
    sites: config.sites.filter((s) => reported.has(s)),
    tiers: { kafka: !!config.tiers.kafka, gcs: !!config.tiers.gcs, bigquery: !!config.tiers.bigquery },
    thresholds: config.thresholds,
    // The one place the report learns a site's zone: its strip runs over that zone's day.
    zoneOf: (site) => zoneOfSite(config, site),
  });
  await writeFileAtomic(file, html, signal);
  return file;
}

/**
 * A day's windows-DAY.csv in `outDir`, read back: null windows when there is none, and with the reason
 * when it is there but cannot be read (warned too).
 */
async function readDayWindows(
  outDir: string,
  day: DayKey,
  formulaGuard: boolean,
  log: Logger | undefined,
): Promise<{ windows: LossWindow[] | null; windowsError?: string }> {
  const file = path.join(outDir, `windows-${day}.csv`);
  try {
    return { windows: parseWindowsCsv(await readFile(file, 'utf8'), formulaGuard) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { windows: null };
    const reason = (e as Error).message;
    log?.warn(`${day}: windows-${day}.csv could not be read back for the HTML report (${reason})`);
    return { windows: null, windowsError: reason };
  }
}

/**
 * ` (CODE)` for an error whose cause (fetch's) or itself carries an errno code; else ` (reason)` for a cause
 * whose message is a few plain words (fetch's `bad port`), which cannot quote the URL; else ''.
 */
function codeOf(e: Error): string {
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const code = [cause?.code, (e as { code?: unknown }).code].find(
    (c): c is string => typeof c === 'string' && /^[A-Z][A-Z0-9_]+$/.test(c),
  );
  if (code) return ` (${code})`;
  return typeof cause?.message === 'string' && /^[a-z][a-z ]{0,39}$/i.test(cause.message) ? ` (${cause.message})` : '';
}
