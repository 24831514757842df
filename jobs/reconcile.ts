import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config, TierLocations } from '../src/config.js';
import { addDays, dayWindow, dayOf } from '../src/dates.js';
import type {
  DayKey,
  DaySummary,
  ReconcileResult,
  Site,
  StreamedCountRow,
  BigqueryRangeReader,
} from '../src/domain.js';
import { type CountingEngine, fileCountingOf } from '../src/engine/engine.js';
import { openEngine, resolveEngineMemory } from '../src/engine/open.js';
import type { KafkaDayRead, KafkaTierReader } from '../src/tiers/kafka-reader.js';
import { exitCodeFor } from '../src/exit.js';
import { InternalError, TierError, throwIfAborted } from '../src/errors.js';
import { type Logger, silentLogger } from '../src/log/logger.js';
import { attributeDay, type DayCounts, type IssueCounts, type KafkaDayCounts } from '../src/reconcile/attribute.js';
import { hasVolumeHistory, VOLUME_MIN_HISTORY_DAYS, type VolumePoint } from '../src/reconcile/volume.js';
import { type CsvOptions, renderMissingHeader, renderMissingRows, renderParityCsv } from '../src/report/csv.js';
import { type DayManifest, renderManifest, type RunMetadata, worstStatus } from '../src/report/manifest.js';
import { rowRecord, summarizeDay } from '../src/report/summary.js';
import {
  commitAll,
  discardAll,
  type PreparedFile,
  prepareFile,
  scratchPrefix,
  type WriteResult,
} from '../src/report/writer.js';
import { StoreRegistry } from '../src/storage/index.js';
import { LOCAL_STAGE_CONCURRENCY, readRecordTier, type TierRead } from '../src/tiers/record-tier.js';
import { addDayToHistory, readVolumeHistory } from './history-reader.js';

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
   * The volume guard's history, read once by a caller that runs several reconciles at once
   * (backfill), so that no batch's baseline depends on when a sibling batch writes its reports.
   * Without it, the run reads the reports already in outDir.
   */
  volumeHistory?: ReadonlyMap<Site, readonly VolumePoint[]>;
  /** Copies each day's files elsewhere once they are written locally (--out gs://…). */
  publish?: (files: string[]) => Promise<void>;
}

// The run's result types are the domain's: the CLI, the alerts and the history read them too.
export type { DaySummary, ReconcileResult };

type FileTierName = 'proxy' | 'gcs';
type TierName = FileTierName | 'bigquery';

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
  const stores = new StoreRegistry(config.gcs);
  // Named with the pid, so that a later run can tell this folder from a live run's once this process is gone (kill -9).
  const scratchRoot = await mkdtemp(scratchPrefix(config.engine.tempDirectory ?? os.tmpdir()));
  const memory = config.engine.kind === 'embedded' ? await resolveEngineMemory(config) : undefined;
  if (memory)
    log.info(
      `engine memory limit ${memory.limit} (${memory.source === 'config' ? 'engine.memoryLimit' : memory.source === 'container' ? `half the container's ${Math.round(memory.containerBytes! / 2 ** 20)} MiB limit` : 'default: no container limit found'})`,
    );
  const engine = await openEngine(config, path.join(scratchRoot, 'engine'), memory);
  const unwatch = engine.watch(signal);
  const summaries: DaySummary[] = [];
  const errors: string[] = [];
  // The volume guard's baseline: the reports already in --out, then each day of this run as it is made.
  const history = req.volumeHistory
    ? new Map([...req.volumeHistory].map(([site, points]) => [site, [...points]]))
    : await readVolumeHistory(req.outDir, req.days[0]!, req.days.at(-1)!, log);
  if (!req.volumeHistory) logNoVolumeHistory(config, req.outDir, history, log);
  try {
    for (let i = 0; i < req.days.length; i += config.engine.batchDays) {
      const batch = req.days.slice(i, i + config.engine.batchDays);
      const scratch = await mkdtemp(path.join(scratchRoot, 'batch-'));
      try {
        for (const summary of await reconcileBatch(
          req,
          batch,
          reportSites,
          engine,
          stores,
          scratch,
          errors,
          log,
          history,
        )) {
          summaries.push(summary);
        }
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
  } finally {
    unwatch();
    await engine.close();
    await rm(scratchRoot, { recursive: true, force: true });
  }
  const exitCode = exitCodeFor(summaries.flatMap((s) => s.rows.flatMap((r) => r.status ?? [])));
  return { days: summaries, exitCode, errors };
}

/** Says once per run that the volume guard has nothing to compare with yet. */
export function logNoVolumeHistory(
  config: Config,
  outDir: string,
  history: ReadonlyMap<Site, readonly VolumePoint[]>,
  log: Logger,
): void {
  if (config.thresholds.volumeDropPct > 0 && !hasVolumeHistory(history)) {
    log.info(
      `volume guard: no history yet in ${outDir}, skipped until ${VOLUME_MIN_HISTORY_DAYS} earlier days are reported`,
    );
  }
}

/** The folders (UTC dates) that may hold records of the days: a day early, `lateDays` late. */
export function folderDaysFor(days: DayKey[], zone: string, lateDays: number): DayKey[] {
  const out = new Set<DayKey>(days);
  for (const day of days) {
    const w = dayWindow(day, zone);
    let d = addDays(dayOf(w.startMs, 'UTC'), -1);
    const last = addDays(dayOf(w.endMs - 1, 'UTC'), lateDays);
    while (d <= last) {
      out.add(d);
      d = addDays(d, 1);
    }
  }
  return [...out].sort();
}

async function readTier(
  tier: FileTierName,
  cfg: TierLocations,
  days: DayKey[],
  zone: string,
  stores: StoreRegistry,
  scratch: string,
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<{ read: TierRead | null; failedDays: Map<DayKey, string> }> {
  const folderDays = folderDaysFor(days, zone, cfg.lateArrivalDays);
  const failedDays = new Map<DayKey, string>();
  try {
    const read = await readRecordTier(tier, cfg, folderDays, stores, scratch, concurrency, signal);
    const foldersOf = new Map(days.map((day) => [day, new Set(folderDaysFor([day], zone, cfg.lateArrivalDays))]));
    for (const f of read.failures) {
      for (const day of days) {
        const reads = f.folderDay === null || foldersOf.get(day)!.has(f.folderDay);
        if (reads && !failedDays.has(day)) failedDays.set(day, f.error.message);
      }
    }
    return { read, failedDays };
  } catch (e) {
    if (!(e instanceof TierError)) throw e;
    for (const day of days) failedDays.set(day, e.message);
    return { read: null, failedDays };
  }
}

async function reconcileBatch(
  req: ReconcileRequest,
  days: DayKey[],
  reportSites: string[],
  engine: CountingEngine,
  stores: StoreRegistry,
  scratch: string,
  errors: string[],
  log: Logger,
  history: Map<Site, VolumePoint[]>,
): Promise<DaySummary[]> {
  const { config, signal } = req;
  const zone = config.timezone;
  // A day's manifest times its batch from here, the reading included, to the writing of its reports.
  const batchStarted = Date.now();
  await engine.setWindows(days.map((d) => dayWindow(d, zone)));

  const tiers: { name: FileTierName; cfg: TierLocations; concurrency: number }[] = [];
  if (config.tiers.proxy) tiers.push({ name: 'proxy', cfg: config.tiers.proxy, concurrency: LOCAL_STAGE_CONCURRENCY });
  if (config.tiers.gcs) tiers.push({ name: 'gcs', cfg: config.tiers.gcs, concurrency: config.gcs.downloadConcurrency });

  const failures = new Map<TierName, Map<DayKey, string>>();
  const noteFailure = (tier: TierName, failedDays: Map<DayKey, string>) => {
    failures.set(tier, failedDays);
    for (const message of new Set(failedDays.values())) {
      errors.push(message);
      log.error(message);
    }
  };
  const first = dayWindow(days[0]!, zone);
  const last = dayWindow(days.at(-1)!, zone);
  const range = `${days[0]}${days.length > 1 ? `..${days.at(-1)}` : ''}`;
  // A table tier: one query for the batch's time range (its pages streamed in, or aggregated where it is).
  const loadTable = async (tier: 'proxy' | 'bigquery', reader: BigqueryRangeReader | undefined) => {
    if (!reader) return engine.loadEmpty(tier);
    throwIfAborted(signal);
    try {
      const read = await engine.loadTable(tier, reader, first.startMs, last.endMs, config.sites);
      log.info(
        `${tier}: ${read.rows === null ? 'aggregated in BigQuery' : `${read.rows} result rows from BigQuery`} for ${range}`,
        { bytes_processed: read.bytesProcessed },
      );
    } catch (e) {
      if (!(e instanceof TierError)) throw e;
      noteFailure(tier, new Map(days.map((d) => [d, e.message])));
      await engine.loadEmpty(tier);
    }
  };

  // Every file tier lists and stages at once (downloads, gunzip), while the engine parses them in turn.
  const reads = tiers.map((t) => readTier(t.name, t.cfg, days, zone, stores, scratch, t.concurrency, signal));
  // Awaited below, in order; this only stops an unhandled rejection meanwhile.
  for (const r of reads) r.catch(() => {});
  if (!config.tiers.proxy) await loadTable('proxy', req.proxyTable);
  for (const [i, t] of tiers.entries()) {
    throwIfAborted(signal);
    const { read, failedDays } = await reads[i]!;
    noteFailure(t.name, failedDays);
    if (read) {
      // A mistyped folder below an existing root lists nothing, exactly as a quiet day would: say so
      // loudly, per day and location, instead of an INFO line that counts 0.
      if (read.staged.length > 0) log.info(`${t.name}: counting ${read.staged.length} objects for ${range}`);
      for (const e of read.empty.filter((x) => x.folderDay === null || days.includes(x.folderDay))) {
        log.warn(
          `${t.name}: counting 0 objects for ${e.folderDay ?? range} in ${t.cfg.raw[e.location] ?? '?'} (expanded: ${e.expanded})`,
          { tier: t.name, day: e.folderDay, location: t.cfg.raw[e.location], expanded: e.expanded },
        );
      }
      const files = fileCountingOf(engine, t.name);
      await files.loadFiles(t.name, read.staged, t.cfg.fields, config.sites, t.cfg.lateArrivalDays);
    } else {
      await fileCountingOf(engine, t.name).loadEmpty(t.name);
    }
  }
  // An engine without file tiers joins no landed file tier: nothing to stand in for.
  if (!config.tiers.gcs) await engine.files?.loadEmpty('gcs');

  // Kafka: a day at a time, so that the offsets fast path and retention are per day.
  const kafkaReads = new Map<DayKey, KafkaDayRead>();
  await engine.beginStreamed('kafka');
  if (req.kafka) {
    for (const day of days) {
      throwIfAborted(signal);
      const read = await req.kafka.readDay(
        dayWindow(day, zone),
        (rows) =>
          engine.appendStreamed(
            'kafka',
            rows.map((r) => ({ ...r, region: r.cluster, n: 1 })),
          ),
        signal,
      );
      kafkaReads.set(day, read);
      for (const message of read.failures.values()) {
        errors.push(`${day}: ${message}`);
        log.error(`${day}: ${message}`);
      }
      for (const w of read.warnings) log.warn(`${day}: ${w}`);
      for (const region of read.expired)
        log.warn(`${day}: kafka cluster ${region}: the day is older than the topic's retention; reported as EXPIRED`);
      log.info(`kafka: read ${day}`, { day, offsets: Object.fromEntries(read.offsetTotals) });
    }
  }
  await engine.finishStreamed('kafka', config.sites);
  await loadTable('bigquery', req.bigquery);
  const kafkaDays = [...kafkaReads].filter(([, r]) => r.failures.size === 0 && r.expired.length === 0).map(([d]) => d);

  const byDay = <T extends { day: DayKey; site: Site }>(rows: T[], day: DayKey) => rows.filter((r) => r.day === day);
  // One connection runs one query at a time: these run in turn.
  const proxyCounts = await engine.proxyCounts();
  const proxyIssues = await engine.lineIssues('proxy');
  const gcsCounts = (await engine.files?.landedCounts('gcs')) ?? [];
  const gcsIssues = (await engine.files?.lineIssues('gcs')) ?? [];
  const kafkaCounts = await engine.streamedCounts('kafka');
  const bigqueryCounts = await engine.streamedCounts('bigquery');
  await engine.joinIds(kafkaDays, Boolean(req.bigquery));
  const groups = await engine.idFacts();
  const toMap = <T>(rows: { site: Site; counts: T }[]) => new Map(rows.map((r) => [r.site, r.counts]));
  const keep = (site: Site) => reportSites.includes(site) || !config.sites.includes(site);

  const summaries: DaySummary[] = [];
  for (const day of days) {
    throwIfAborted(signal);
    const dayFailures: DayCounts['failures'] = {};
    for (const [tier, failedDays] of failures) {
      const message = failedDays.get(day);
      if (message) dayFailures[tier] = message;
    }
    const kafkaRead = kafkaReads.get(day);
    if (kafkaRead && kafkaRead.failures.size > 0) dayFailures.kafka = [...kafkaRead.failures.values()].join('; ');
    const input: DayCounts = {
      day,
      proxy: toMap(byDay(proxyCounts, day).filter((r) => keep(r.site))),
      proxyIssues: toMap<IssueCounts>(byDay(proxyIssues, day).filter((r) => keep(r.site))),
      gcs: config.tiers.gcs ? toMap(byDay(gcsCounts, day).filter((r) => keep(r.site))) : null,
      gcsIssues: toMap<IssueCounts>(byDay(gcsIssues, day).filter((r) => keep(r.site))),
      kafka: kafkaRead
        ? kafkaDayCounts(
            kafkaCounts.filter((r) => r.day === day && keep(r.site)),
            kafkaRead,
          )
        : null,
      bigquery: req.bigquery ? bigqueryDayCounts(bigqueryCounts.filter((r) => r.day === day && keep(r.site))) : null,
      groups: byDay(groups, day).filter((g) => keep(g.site)),
      failures: dayFailures,
    };
    const report = attributeDay(input, {
      sites: reportSites,
      thresholds: config.thresholds,
      volumeHistory: history,
      tiers: {
        gcs: Boolean(config.tiers.gcs),
        kafka: req.kafka ? req.kafka.regions : null,
        bigquery: Boolean(req.bigquery),
      },
    });
    for (const w of report.warnings) log.warn(`identity check failed (a bug, please report): ${w}`);
    addDayToHistory(history, report.rows);

    const parityFile = path.join(req.outDir, `parity-${day}.csv`);
    const missingPath = path.join(req.outDir, `missing-${day}.csv`);
    // The missing list needs the proxy and the final tier; a failed Kafka only loses its causes.
    const listIncomplete =
      dayFailures.proxy !== undefined || (req.bigquery ? dayFailures.bigquery : dayFailures.gcs) !== undefined;
    // Every file of the day is prepared beside its target first, then all are renamed into place,
    // the manifest last: a failure on the way leaves the day's old files as they were.
    const prepared: PreparedFile[] = [];
    let change: DaySummary['change'];
    let missingFile: string | null;
    try {
      const missing = listIncomplete
        ? null
        : await prepareFile(
            missingPath,
            missingCsv(engine, day, reportSites, keep, { formulaGuard: config.reports.csvFormulaGuard }),
          );
      if (missing) prepared.push(missing);
      const parity = await prepareFile(parityFile, [
        renderParityCsv(report.rows, req.kafka?.regions ?? [], { formulaGuard: config.reports.csvFormulaGuard }),
      ]);
      prepared.push(parity);
      change = changeOf(parity, missing);
      missingFile = missing ? missingPath : null;
      if (req.run) {
        const manifest: DayManifest = {
          ...req.run,
          day,
          status: worstStatus(report.rows.flatMap((r) => r.status ?? [])),
          sites: reportSites,
          change,
          durationMs: Date.now() - batchStarted,
          files: {
            parity: { name: path.basename(parityFile), sha256: parity.sha256 },
            missing: missing ? { name: path.basename(missingPath), sha256: missing.sha256 } : null,
          },
        };
        prepared.push(await prepareFile(path.join(req.outDir, `manifest-${day}.json`), [renderManifest(manifest)]));
      }
    } catch (e) {
      await discardAll(prepared);
      throw e;
    }
    // Nothing of a stopped run is committed: the prepared files are discarded and the old ones stay.
    await commitAll(prepared, signal);
    // An incomplete list would read as "nothing else is missing": leave none rather than a wrong one.
    if (listIncomplete) await rm(missingPath, { force: true });
    const all = report.rows.at(-1)!;
    // The day's worst row, not ALL's: an alert on `status` must see an UNKNOWN row that FAILs under a passing ALL.
    const verdict = summarizeDay(report.rows);
    log.info(
      `${day}: ${verdict.text} — ALL parity ${String(all.parity_pct ?? '-')}% missing ${String(all.missing ?? '-')}${change === 'restated' ? ' (restated: late data changed it)' : ''}`,
      {
        day,
        status: verdict.status,
        rows: verdict.rows.map(rowRecord),
        all_status: all.status,
        parity_pct: all.parity_pct,
        missing: all.missing,
        unexplained: all.unexplained,
        change,
      },
    );
    if (req.publish) {
      throwIfAborted(signal);
      const manifestFile = req.run ? [path.join(req.outDir, `manifest-${day}.json`)] : [];
      await req.publish([...(missingFile ? [missingFile] : []), parityFile, ...manifestFile]);
    }
    const summary: DaySummary = { day, rows: report.rows, parityFile, missingFile, change };
    req.onDay?.(summary);
    summaries.push(summary);
  }
  return summaries;
}

function kafkaDayCounts(rows: StreamedCountRow[], read: KafkaDayRead): KafkaDayCounts {
  const messages = new Map<Site, Map<string, number>>();
  const malformed = new Map<Site, number>();
  for (const r of rows) {
    if (r.kind === 'malformed') malformed.set(r.site, (malformed.get(r.site) ?? 0) + r.n);
    const bySite = messages.get(r.site) ?? new Map<string, number>();
    bySite.set(r.region, (bySite.get(r.region) ?? 0) + r.n);
    messages.set(r.site, bySite);
  }
  return { messages, malformed, offsetTotals: read.offsetTotals, expired: read.expired };
}

function bigqueryDayCounts(rows: StreamedCountRow[]): NonNullable<DayCounts['bigquery']> {
  const out: NonNullable<DayCounts['bigquery']> = new Map();
  for (const r of rows) {
    const c = out.get(r.site) ?? { records: 0, distinct: 0, malformed: 0 };
    if (r.kind === 'malformed') c.malformed += r.n;
    else {
      c.records += r.n;
      c.distinct += r.distinct;
    }
    out.set(r.site, c);
  }
  return out;
}

function changeOf(parity: WriteResult, missing: WriteResult | null): DaySummary['change'] {
  if (parity.previousSha256 === null) return 'new';
  const same =
    parity.previousSha256 === parity.sha256 && (missing === null || missing.previousSha256 === missing.sha256);
  return same ? 'unchanged' : 'restated';
}

async function* missingCsv(
  engine: CountingEngine,
  day: DayKey,
  reportSites: string[],
  keep: (site: Site) => boolean,
  csv: CsvOptions,
): AsyncGenerator<string> {
  yield renderMissingHeader();
  for await (const chunk of engine.missingIds(day, reportSites)) {
    yield renderMissingRows(
      day,
      chunk.filter((m) => keep(m.site)).map((m) => ({ site: m.site, requestId: m.requestId, facts: m.facts })),
      csv,
    );
  }
}
