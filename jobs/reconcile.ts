import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BigqueryClients } from '../src/bigquery/client.js';
import type { Config } from '../src/config.js';
import { dayWindow } from '../src/dates.js';
import { zoneOfSite } from '../src/site-zones.js';
import type { BigqueryRangeReader, DayKey, DaySummary, ParityRow, ReconcileResult, Site } from '../src/domain.js';
import type { CountingEngine, MissingId } from '../src/engine/engine.js';
import type { WindowCounting } from '../src/engine/loss-windows.js';
import { describeEngineMemory, type EngineMemory } from '../src/engine/memory.js';
import { openEngine, resolveEngineMemory } from '../src/engine/open.js';
import { withContentMismatch } from '../src/engine/compare.js';
import { comparePayloads, keptMismatches } from '../src/engine/compare-run.js';
import type { KafkaTierReader } from '../src/tiers/kafka-reader.js';
import { exitCodeFor } from '../src/exit.js';
import { InternalError, ResourceError, throwIfAborted } from '../src/errors.js';
import { type Logger, silentLogger } from '../src/log/logger.js';
import { assembleDay, type BatchRows, keepSite } from '../src/reconcile/assemble.js';
import { attributeDay } from '../src/reconcile/attribute.js';
import { hasVolumeHistory, VOLUME_MIN_HISTORY_DAYS } from '../src/reconcile/volume.js';
import { type Publish, publishDay, writeDayReports } from '../src/report/day-writer.js';
import type { RunMetadata } from '../src/report/manifest.js';
import { rowRecord } from '../src/report/summary-docs.js';
import { summarizeDay } from '../src/report/summary.js';
import { scratchPrefix } from '../src/report/writer.js';
import { GcsConnection, StoreRegistry } from '../src/storage/index.js';
import { runBatches } from './batches.js';
import { readVolumeHistory, VolumeLedger } from './history-reader.js';
import { type BatchRead, readBatch } from './read-tiers.js';

export interface ReconcileRequest {
  config: Config;
  days: DayKey[];
  outDir: string;
  /** Report only these configured sites (--sites); records are still classified against every configured site. */
  sites?: string[];
  signal?: AbortSignal;
  log?: Logger;
  /** When given, a manifest-DAY.json with this metadata is written beside each day's reports. */
  run?: RunMetadata;
  /** Called after each day is written, for progress. */
  onDay?: (summary: DaySummary) => void;
  /** The Kafka tier, when configured (the CLI makes it from tiers.kafka). */
  kafka?: KafkaTierReader;
  /** The BigQuery tier, when configured (the CLI makes it from tiers.bigquery): then the final tier. */
  bigquery?: BigqueryRangeReader;
  /** The proxy's table, when tiers.proxy.bigquery is configured (the CLI makes it) instead of files. */
  proxyTable?: BigqueryRangeReader;
  /**
   * The volume guard's history, shared by a caller that runs several reconciles at once (backfill): the
   * reports in outDir read once, then every day of all of them, each waiting for the days before it.
   * Without it, the run reads the reports already in outDir and adds its own days in order.
   */
  volumeLedger?: VolumeLedger;
  /**
   * Before each day's reports are written: throws when the run may no longer write them (another run took
   * its output over: src/storage/output-lease.ts). The CLI's runs hold a lease on their output.
   */
  beforeWrite?: () => Promise<void>;
  /** The engine's memory limit, resolved and logged by the caller (backfill, once for its lanes); else here. */
  memory?: EngineMemory;
  /** Copies each day's files elsewhere once they are written locally (--out gs://…). */
  publish?: Publish;
  /** The run's GCS client and download limit (shared with --out gs://); default: one of this call's own. */
  gcs?: GcsConnection;
  /** The run's BigQuery clients (the tiers' and the history writer's): engine bigquery runs on them too. */
  bigqueryClients?: BigqueryClients;
}

// The run's result types are the domain's: the CLI, the alerts and the history read them too.
export type { DaySummary, ReconcileResult };

/** Reads every configured tier for the days, reconciles them and writes the reports, a batch of days at a time. */
export async function runReconcile(req: ReconcileRequest): Promise<ReconcileResult> {
  const { config, signal } = req;
  const log = req.log ?? silentLogger;
  const reportSites = req.sites ?? config.sites;
  // A configured table without its reader would count as an empty tier: zero, where it must be read.
  if (config.tiers.proxyBigquery && !req.proxyTable)
    throw new InternalError('tiers.proxy.bigquery is configured but no proxy table reader was given');
  if (config.engine.kind === 'bigquery' && !req.bigquery)
    throw new InternalError('engine bigquery needs the tiers.bigquery reader');
  const cache = config.cache?.location;
  const stores = new StoreRegistry(req.gcs ?? new GcsConnection(config.gcs), [
    // the day manifests, also those moved into not-in-bucket/STAMP/ (jobs/sync-reports.ts)
    { folder: req.outDir, paths: /^(not-in-bucket\/[^/]+\/)?manifest-\d{4}-\d\d-\d\d\.json$/ },
    ...(cache?.scheme === 'file' ? [{ folder: cache.template, paths: /^(day-)?[0-9a-f]{64}\.json$/ }] : []),
  ]);
  // Named with the pid, so that a later run can tell this folder from a live run's once this process is gone (kill -9).
  const scratchRoot = await mkdtemp(scratchPrefix(config.engine.tempDirectory ?? os.tmpdir()));
  const memory = req.memory ?? (await engineMemoryOf(config, 1, log));
  const engine = await openEngine(config, path.join(scratchRoot, 'engine'), memory, req.bigqueryClients);
  const unwatch = engine.watch(signal);
  const summaries: DaySummary[] = [];
  const errors: string[] = [];
  // The volume guard's baseline: the reports already in --out, then each day of this run as it is made.
  const ledger = req.volumeLedger ?? (await volumeLedgerFor(config, req.outDir, req.days, log));
  try {
    await runBatches(req.days, config.engine.batchDays, summaries, {
      run: async (batch, written) => {
        const scratch = await mkdtemp(path.join(scratchRoot, 'batch-'));
        try {
          await reconcileBatch(req, batch, reportSites, engine, stores, scratch, errors, log, ledger, written);
        } finally {
          await rm(scratch, { recursive: true, force: true });
        }
      },
      retryable: (e) => e instanceof ResourceError && !signal?.aborted,
      onSplit: (left, half, cause) =>
        log.warn(
          `engine: ${left.length} days (${left[0]}..${left.at(-1)}) did not fit in the engine's memory limit ` +
            `together; reading them again ${half === 1 ? 'a day' : `${half} days`} at a time ` +
            `(engine.batchDays ${config.engine.batchDays} ` +
            'is too large for engine.memoryLimit on these days)',
          {
            days: left.length,
            retry_batch_days: half,
            engine_error: cause instanceof ResourceError ? cause.detail : String(cause),
          },
        ),
    });
  } finally {
    unwatch();
    await engine.close();
    await rm(scratchRoot, { recursive: true, force: true });
  }
  const exitCode = exitCodeFor(summaries.flatMap((s) => s.rows.flatMap((r) => r.status ?? [])));
  return { days: summaries, exitCode, errors };
}

/**
 * The embedded engine's memory limit for `engines` running in the container at once (a limit derived from the
 * container is shared among them), logged once with where it came from; undefined with engine bigquery.
 */
export async function engineMemoryOf(config: Config, engines: number, log: Logger): Promise<EngineMemory | undefined> {
  if (config.engine.kind !== 'embedded') return undefined;
  const memory = await resolveEngineMemory(config, engines);
  const { source, warning } = describeEngineMemory(memory);
  log.info(`engine memory limit ${memory.limit} (${source})`);
  if (warning) log.warn(warning, { engine_memory: memory.limit });
  return memory;
}

/**
 * The volume guard's history of a run over `days`: the reports already in `outDir`, then each of the days
 * as it is made (VolumeLedger). Says once when the guard has nothing to compare with yet.
 */
export async function volumeLedgerFor(
  config: Config,
  outDir: string,
  days: readonly DayKey[],
  log: Logger,
): Promise<VolumeLedger> {
  if (days.length === 0) return new VolumeLedger(new Map(), days);
  const history = await readVolumeHistory(outDir, days[0]!, days.at(-1)!, log);
  // A WARNING: a check that is off is said even beside a progress bar (which hides INFO lines) and with --quiet.
  if (config.thresholds.volumeDropPct > 0 && !hasVolumeHistory(history, days[0]!)) {
    log.warn(
      `volume guard: fewer than ${VOLUME_MIN_HISTORY_DAYS} earlier days reported in ${outDir} before ${days[0]}: ` +
        'no traffic drop can be flagged until there are',
      { volume_guard: 'no_history' },
    );
  }
  return new VolumeLedger(history, days);
}

/** The engine's counts of a batch, once every tier is in: one query at a time (one connection runs one). */
async function countBatch(engine: CountingEngine, read: BatchRead, finalIsBigquery: boolean): Promise<BatchRows> {
  const proxy = await engine.proxyCounts();
  const proxyIssues = await engine.lineIssues('proxy');
  const gcs = (await engine.files?.landedCounts('gcs')) ?? [];
  const gcsIssues = (await engine.files?.lineIssues('gcs')) ?? [];
  const kafka = await engine.streamedCounts('kafka');
  const bigquery = await engine.streamedCounts('bigquery');
  await engine.joinIds(read.kafkaDays, finalIsBigquery);
  const groups = await engine.idFacts();
  return { proxy, proxyIssues, gcs, gcsIssues, kafka, bigquery, groups };
}

/** One batch of days: read (tiers → engine) → assemble → attribute → write, a day at a time after the read. */
async function reconcileBatch(
  req: ReconcileRequest,
  days: DayKey[],
  reportSites: string[],
  engine: CountingEngine,
  stores: StoreRegistry,
  scratch: string,
  errors: string[],
  log: Logger,
  ledger: VolumeLedger,
  /** Each day's summary, pushed as soon as its reports are written (a failure later in the batch keeps them). */
  summaries: DaySummary[],
): Promise<void> {
  const { config, signal } = req;
  // A day's manifest times its batch from here, the reading included, to the writing of its reports.
  const batchStarted = Date.now();
  // Each day's instants, computed once: the engine, the file tiers' folders and Kafka all read these.
  const windows = days.map((d) => dayWindow(d, config.timezone));
  await engine.setWindows(windows, config);
  const read = await readBatch(req, windows, engine, stores, scratch, errors, log, signal);
  const rows = await countBatch(engine, read, Boolean(req.bigquery));
  const compared = await comparePayloads(
    engine.compare,
    {
      kafka: Boolean(req.kafka),
      finalIsBigquery: Boolean(req.bigquery),
      sites: reportSites,
    },
    log,
  );
  const scope = {
    reportSites,
    configuredSites: config.sites,
    gcs: Boolean(config.tiers.gcs),
    bigquery: Boolean(req.bigquery),
  };
  const keep = keepSite(scope);

  for (const { day } of windows) {
    throwIfAborted(signal);
    const input = assembleDay(day, rows, read, scope);
    const report = attributeDay(input, {
      sites: reportSites,
      thresholds: config.thresholds,
      volumeHistory: await ledger.before(day, signal),
      tiers: { gcs: scope.gcs, kafka: req.kafka ? req.kafka.regions : null, bigquery: scope.bigquery },
    });
    for (const w of report.warnings) log.warn(`identity check failed (a bug, please report): ${w}`);
    ledger.add(day, report.rows);
    // The missing list needs the proxy and the final tier; a failed Kafka only loses its causes.
    const listComplete =
      input.failures.proxy === undefined && (req.bigquery ? input.failures.bigquery : input.failures.gcs) === undefined;
    // Mismatches need Kafka's day whole and the final tier's.
    const comparedWhole = Boolean(compared) && listComplete && read.kafkaDays.includes(day);
    await req.beforeWrite?.();

    const summary = await writeDayReports(
      req.outDir,
      {
        day,
        rows: compared ? withContentMismatch(report.rows, compared.counts, day, comparedWhole) : report.rows,
        regions: req.kafka?.regions ?? [],
        listComplete,
        ...(compared ? { mismatches: comparedWhole ? () => keptMismatches(compared.comparing, day, keep) : null } : {}),
        missingIds: () => keptMissingIds(engine, day, reportSites, keep),
        ...(engine.windows ? { lossWindows: keptWindows(engine.windows, day, reportSites, keep) } : {}),
        sites: reportSites,
        csv: { formulaGuard: config.reports.csvFormulaGuard },
        zone: (site: Site) => zoneOfSite(config, site),
        run: req.run,
        batchStarted,
      },
      signal,
    );
    logDay(log, day, report.rows, summary);
    if (req.publish) await publishDay(req.publish, req.outDir, summary, Boolean(req.run), signal);
    req.onDay?.(summary);
    summaries.push(summary);
  }
}

/**
 * The day's verdict: its worst row, not ALL's (an alert on `status` must see an UNKNOWN row that
 * FAILs under a passing ALL).
 */
function logDay(log: Logger, day: DayKey, rows: ParityRow[], summary: DaySummary): void {
  const { change } = summary;
  const all = rows.at(-1)!;
  const verdict = summarizeDay(rows, summary.worstWindow ?? null);
  const restated = change === 'restated' ? ' (restated: its report changed since it was last written)' : '';
  // compare's count, where the day was compared (summary.rows are the written rows)
  const mismatch = summary.rows.at(-1)?.content_mismatch;
  const figures =
    (all.parity_pct === null || all.parity_pct === undefined
      ? 'ALL no parity'
      : `ALL parity ${String(all.parity_pct)}%`) +
    (all.missing === null || all.missing === undefined ? '' : ` missing ${String(all.missing)}`) +
    (typeof mismatch === 'number' ? ` content_mismatch ${mismatch}` : '');
  const window = verdict.window ? `; worst window: ${verdict.window}` : '';
  // WARNING for a day that is not PASS, or that was restated: --quiet (warnings and errors) still says it, and a
  // run stopped later has said it already.
  const level = verdict.status === 'PASS' && change !== 'restated' ? log.info : log.warn;
  level(`${day}: ${verdict.text} — ${figures}${window}${restated}`, {
    day,
    status: verdict.status,
    rows: verdict.rows.map(rowRecord),
    all_status: all.status,
    parity_pct: all.parity_pct,
    missing: all.missing,
    unexplained: all.unexplained,
    change,
    ...(verdict.window ? { worst_window: verdict.window } : {}),
    ...(typeof mismatch === 'number' ? { content_mismatch: mismatch } : {}),
  });
}

/** The day's loss windows of the sites this run reports. */
function keptWindows(windows: WindowCounting, day: DayKey, reportSites: string[], keep: (site: Site) => boolean) {
  return async () => (await windows.lossWindows(day, reportSites)).filter((w) => keep(w.site));
}

/** The day's missing ids from the engine, in report order, of the reported sites (and UNKNOWN) only. */
async function* keptMissingIds(
  engine: CountingEngine,
  day: DayKey,
  reportSites: string[],
  keep: (site: Site) => boolean,
): AsyncGenerator<MissingId[]> {
  for await (const chunk of engine.missingIds(day, reportSites)) yield chunk.filter((m) => keep(m.site));
}
