import path from 'node:path';
import type { Config, TierLocations } from '../src/config.js';
import { addDays, dayOf } from '../src/dates.js';
import { daySpan, dayWindowsOf, kafkaReadsOf, type SiteZoning } from '../src/site-zones.js';
import type { BigqueryRangeReader, DayKey, DayWindow } from '../src/domain.js';
import { type CountingEngine, fileCountingOf } from '../src/engine/engine.js';
import { ObjectCache } from '../src/engine/object-cache.js';
import { TierError, throwIfAborted } from '../src/errors.js';
import type { Logger } from '../src/log/logger.js';
import type { BatchReads, KafkaDayOutcome } from '../src/reconcile/assemble.js';
import type { BlobObject } from '../src/storage/blob-store.js';
import type { StoreRegistry } from '../src/storage/index.js';
import type { KafkaPin, KafkaTierReader } from '../src/tiers/kafka-reader.js';
import {
  LOCAL_STAGE_CONCURRENCY,
  type ObjectFailure,
  readRecordTier,
  type TierRead,
} from '../src/tiers/record-tier.js';

type FileTierName = 'proxy' | 'gcs';

/** The tiers of a run: the readers the caller made, and the config's file tiers. */
export interface BatchSources {
  config: Config;
  kafka?: KafkaTierReader;
  bigquery?: BigqueryRangeReader;
  proxyTable?: BigqueryRangeReader;
}

/** What reading a batch told beside the engine's rows; `kafkaDays`: the days Kafka was read whole. */
export interface BatchRead extends BatchReads {
  kafkaDays: DayKey[];
}

/**
 * The folders (UTC dates) that may hold records of the days: from each day's first UTC date (less
 * `clockSkewDays`, for a writer whose clock runs ahead) to `lateDays` after its last. With sites whose
 * day is cut in a zone of their own (`siteZones`), the union of what each site's day needs.
 */
export function folderDaysFor(
  days: DayKey[],
  zone: string,
  lateDays: number,
  clockSkewDays: number,
  siteZones?: SiteZoning['siteZones'],
): DayKey[] {
  const zoning: SiteZoning = { timezone: zone, ...(siteZones ? { siteZones } : {}) };
  return folderDaysOf(
    days.flatMap((d) => dayWindowsOf(d, zoning)),
    { lateArrivalDays: lateDays, clockSkewDays },
  );
}

/**
 * The folders (UTC dates) that may hold records of the days' windows. A record cannot be written
 * before it happened, so no folder before a window's first UTC date is read unless the config
 * allows for clock skew; late-arriving records are looked for `lateArrivalDays` after its last.
 */
export function folderDaysOf(
  windows: readonly DayWindow[],
  reach: Pick<TierLocations, 'lateArrivalDays' | 'clockSkewDays'>,
): DayKey[] {
  const out = new Set<DayKey>(windows.map((w) => w.day));
  for (const w of windows) {
    let d = addDays(dayOf(w.startMs, 'UTC'), -reach.clockSkewDays);
    const last = addDays(dayOf(w.endMs - 1, 'UTC'), reach.lateArrivalDays);
    while (d <= last) {
      out.add(d);
      d = addDays(d, 1);
    }
  }
  return [...out].sort();
}

/**
 * The read phase: every configured tier of the batch's days into the engine (the days' windows
 * computed once by the caller). A tier that cannot be read is logged, added to `errors` and stands
 * empty, so that the others still count; only a stop or a bug throws.
 */
export async function readBatch(
  src: BatchSources,
  windows: readonly DayWindow[],
  engine: CountingEngine,
  stores: StoreRegistry,
  scratch: string,
  errors: string[],
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<BatchRead> {
  const { config } = src;
  const days = windows.map((w) => w.day);
  // Each day in every zone some site's day is cut in: the folders and time ranges read are their union.
  const zoneWindows = days.flatMap((d) => dayWindowsOf(d, config));
  const [first, last] = [daySpan(days[0]!, config), daySpan(days.at(-1)!, config)];
  const cache = config.cache
    ? new ObjectCache(await stores.cacheStore(config.cache.location), log, path.join(scratch, 'cache'))
    : undefined;
  const tiers: { name: FileTierName; cfg: TierLocations; concurrency: number }[] = [];
  if (config.tiers.proxy) tiers.push({ name: 'proxy', cfg: config.tiers.proxy, concurrency: LOCAL_STAGE_CONCURRENCY });
  if (config.tiers.gcs) tiers.push({ name: 'gcs', cfg: config.tiers.gcs, concurrency: config.gcs.downloadConcurrency });

  const failures = new Map<FileTierName | 'bigquery', Map<DayKey, string>>();
  // Each object that failed is named on a line of its own (its name whole in `object`), not only the first.
  const noteFailure = (
    tier: FileTierName | 'bigquery',
    failedDays: Map<DayKey, string>,
    objects: readonly ObjectFailure[] = [],
  ) => {
    failures.set(tier, failedDays);
    const said =
      objects.length > 0
        ? objects.map(({ error: e }) => ({ message: e.message, fields: { tier, object: e.object } }))
        : [...new Set(failedDays.values())].map((message) => ({ message, fields: undefined }));
    for (const { message, fields } of said) {
      errors.push(message);
      log.error(message, fields);
    }
  };
  // The sink groups' offsets first: read after the landed tier's listing, they would take in what the
  // sink wrote meanwhile, and such a record would be missing_unexplained instead of in_flight.
  const pin = await src.kafka?.pinCommitted?.(signal);
  const range = `${days[0]}${days.length > 1 ? `..${days.at(-1)}` : ''}`;
  // A table tier: one query for the batch's time range (its pages streamed in, or aggregated where it is).
  const loadTable = async (tier: 'proxy' | 'bigquery', reader: BigqueryRangeReader | undefined) => {
    if (!reader) return engine.loadEmpty(tier);
    throwIfAborted(signal);
    try {
      const read = await engine.loadTable(tier, reader, first.startMs, last.endMs, config.sites);
      const how = read.rows === null ? 'aggregated in BigQuery' : `${read.rows} result rows from BigQuery`;
      log.info(`${tier}: ${how} for ${range}`, { bytes_processed: read.bytesProcessed });
    } catch (e) {
      if (!(e instanceof TierError)) throw e;
      noteFailure(tier, new Map(days.map((d) => [d, e.message])));
      await engine.loadEmpty(tier);
    }
  };

  // Every file tier lists and stages at once (downloads, gunzip), while the engine parses them in turn.
  // With a cache, an object that has its entry is neither downloaded nor checked: its entry is read instead.
  const cached = (t: (typeof tiers)[number]) =>
    cache && engine.files ? engine.files.cachedAggregate(t.name, t.cfg.fields, cache) : undefined;
  const reads = tiers.map((t) =>
    readFileTier(t.name, t.cfg, zoneWindows, stores, scratch, t.concurrency, signal, cached(t)),
  );
  // Awaited below, in order; this only stops an unhandled rejection meanwhile.
  for (const r of reads) r.catch(() => {});
  if (!config.tiers.proxy) await loadTable('proxy', src.proxyTable);
  for (const [i, t] of tiers.entries()) {
    throwIfAborted(signal);
    const { read, failedDays } = await reads[i]!;
    if (!read) noteFailure(t.name, failedDays);
    if (read) {
      // A mistyped folder below an existing root lists nothing, exactly as a quiet day would: say so
      // loudly, per day and location, instead of an INFO line that counts 0.
      if (read.staged.length > 0) log.info(`${t.name}: counting ${read.staged.length} objects for ${range}`);
      for (const e of read.empty.filter((x) => x.folderDay === null || days.includes(x.folderDay))) {
        const where = `${t.cfg.raw[e.location] ?? '?'} (expanded: ${e.expanded})`;
        log.warn(`${t.name}: counting 0 objects for ${e.folderDay ?? range} in ${where}`, {
          tier: t.name,
          day: e.folderDay,
          location: t.cfg.raw[e.location],
          expanded: e.expanded,
        });
      }
      const files = fileCountingOf(engine, t.name);
      // Named once each, though a gzip found cut makes the tier be loaded again.
      const warned = new Set<string>();
      const load = async (staged: typeof read.staged) => {
        const reach = { lateDays: t.cfg.lateArrivalDays, clockSkewDays: t.cfg.clockSkewDays };
        const byLine = await files.loadFiles(t.name, staged, t.cfg.fields, config.sites, reach, cache);
        for (const { url: object, why } of byLine) {
          if (warned.has(object)) continue;
          warned.add(object);
          const what = {
            misread: 'has a broken line the JSON reader read on past, into the next; its lines were read again',
            unreadable:
              'could not be read whole by the JSON reader (a line past its size limit, or one it cannot get past); ' +
              'its lines were read',
            'gzip-tail':
              'has bytes after its gzip data (zero padding) that the JSON reader does not take; its lines were read',
          }[why];
          log.warn(`${t.name}: ${object} ${what} one at a time, each counted as what it is`, {
            tier: t.name,
            object,
            read_by_line: why,
          });
        }
      };
      // The gzip checks run beside the engine's scan; an object that fails them is read again out of the tier.
      // The engine may also stop at bytes that are not gzip at all: then the check names the object too.
      const [loaded, cut] = await Promise.all([
        load(read.staged).then(
          () => null,
          (e: unknown) => e,
        ),
        read.verified,
      ]);
      throwIfAborted(signal);
      if (loaded !== null && cut.length === 0) throw loaded;
      const all = [...read.failures, ...cut].sort((a, b) => (a.error.object < b.error.object ? -1 : 1));
      noteFailure(t.name, failedDaysOf(all, zoneWindows, t.cfg), all);
      if (cut.length > 0) {
        const gone = new Set(cut.map((f) => f.error.object));
        await load(read.staged.filter((s) => !gone.has(s.url)));
      }
    } else {
      await fileCountingOf(engine, t.name).loadEmpty(t.name);
    }
  }
  // An engine without file tiers joins no landed file tier: nothing to stand in for.
  if (!config.tiers.gcs) await engine.files?.loadEmpty('gcs');

  const kafka = await readKafka(src.kafka, pin, days, config, engine, errors, log, signal);
  await loadTable('bigquery', src.bigquery);
  const kafkaDays = [...kafka].filter(([, r]) => r.failures.size === 0 && r.expired.length === 0).map(([d]) => d);
  return { failures, kafka, kafkaDays };
}

/**
 * Kafka: a day at a time, so that the offsets fast path and retention are per day. With sites whose day
 * is cut in a zone of their own, each read covers from the day's earliest start to the next day's, and
 * the last day's rest in a read of its own (kafkaReadsOf), so no message is read twice and a day's
 * fast path is the same in any batch; a day whose later sites' hours the next read holds takes that
 * read's failures and expiry too.
 */
async function readKafka(
  reader: KafkaTierReader | undefined,
  pin: KafkaPin | undefined,
  days: readonly DayKey[],
  config: Config,
  engine: CountingEngine,
  errors: string[],
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<Map<DayKey, KafkaDayOutcome>> {
  const reads: KafkaRead[] = [];
  await engine.beginStreamed('kafka');
  for (const { own, ...window } of reader ? kafkaReadsOf(days, config) : []) {
    const day = window.day;
    throwIfAborted(signal);
    const read = await reader!.readDay(
      window,
      (rows) =>
        engine.appendStreamed(
          'kafka',
          rows.map((r) => ({ ...r, region: r.cluster, n: 1 })),
        ),
      signal,
      pin,
    );
    reads.push({ window, own, outcome: read });
    for (const message of read.failures.values()) {
      errors.push(`${day}: ${message}`);
      log.error(`${day}: ${message}`);
    }
    for (const w of read.warnings) log.warn(`${day}: ${w}`);
    for (const region of read.expired)
      log.warn(
        `${day}: kafka cluster ${region}: the first records of a partition of the topic are gone (retention or ` +
          "deleteRecords) and may have held the day's messages; its count is unknown, reported as EXPIRED",
      );
    log.info(`kafka: read ${day}${own ? '' : " (its later sites' hours)"}`, {
      day,
      offsets: Object.fromEntries(read.offsetTotals),
    });
  }
  await engine.finishStreamed('kafka', config.sites);
  return kafkaOutcomes(days, reads, config);
}

/** One Kafka read of a batch: its range, whether it is its day's own share (kafkaReadsOf), what it found. */
export interface KafkaRead {
  window: DayWindow;
  own: boolean;
  outcome: KafkaDayOutcome;
}

/**
 * Each day's Kafka outcome: its own read's offsets, and the failures and expiry of every read whose range
 * overlaps the day's span in any site's zone (its own; the next day's, or a later one's where zones lie
 * more than a day apart; the batch's last read of later hours). A read that holds none of a day's hours
 * leaves the day alone. Pure.
 */
export function kafkaOutcomes(
  days: readonly DayKey[],
  reads: readonly KafkaRead[],
  zoning: SiteZoning,
): Map<DayKey, KafkaDayOutcome> {
  const out = new Map<DayKey, KafkaDayOutcome>();
  for (const day of days) {
    const own = reads.find((r) => r.own && r.window.day === day);
    if (!own) continue;
    const span = daySpan(day, zoning);
    const touching = reads.filter((r) => r.window.startMs < span.endMs && r.window.endMs > span.startMs);
    out.set(day, {
      offsetTotals: own.outcome.offsetTotals,
      failures: new Map(touching.flatMap((r) => [...r.outcome.failures]).reverse()),
      expired: [...new Set(touching.flatMap((r) => r.outcome.expired))],
    });
  }
  return out;
}

/** A file tier's objects for the days, staged; the days each failed object may hold records of are failed. */
async function readFileTier(
  tier: FileTierName,
  cfg: TierLocations,
  windows: readonly DayWindow[],
  stores: StoreRegistry,
  scratch: string,
  concurrency: number,
  signal: AbortSignal | undefined,
  cached?: (object: BlobObject) => Promise<string | undefined>,
): Promise<{ read: TierRead | null; failedDays: Map<DayKey, string> }> {
  const days = windows.map((w) => w.day);
  const folderDays = folderDaysOf(windows, cfg);
  const failedDays = new Map<DayKey, string>();
  try {
    // The days its failed objects fail are known once its gzip checks are done too (readBatch).
    const read = await readRecordTier(tier, cfg, folderDays, stores, scratch, concurrency, signal, cached);
    return { read, failedDays };
  } catch (e) {
    if (!(e instanceof TierError)) throw e;
    for (const day of days) failedDays.set(day, e.message);
    return { read: null, failedDays };
  }
}

/**
 * The days each failed object may hold records of, each with the first failure's message and the names of the
 * others (up to MORE_NAMED, then how many more), so that one run names every object to repair, not one a run.
 */
function failedDaysOf(
  failures: readonly ObjectFailure[],
  windows: readonly DayWindow[],
  cfg: TierLocations,
): Map<DayKey, string> {
  // A day is cut in each zone some site has: its objects are those of any of its windows, in the failures' order.
  const byDay = new Map<DayKey, Set<ObjectFailure>>();
  for (const w of windows) {
    const folders = new Set(folderDaysOf([w], cfg));
    const mine = byDay.get(w.day) ?? new Set();
    for (const x of failures) if (x.folderDay === null || folders.has(x.folderDay)) mine.add(x);
    byDay.set(w.day, mine);
  }
  const failedDays = new Map<DayKey, string>();
  for (const [day, mine] of byDay) {
    const [f, ...others] = failures.filter((x) => mine.has(x));
    if (!f) continue;
    const named = others.slice(0, MORE_NAMED).map((x) => x.error.object);
    const rest = others.length - named.length;
    const more =
      others.length === 0
        ? ''
        : ` (and ${others.length} more object${others.length > 1 ? 's' : ''} that could not be read: ` +
          `${named.join(', ')}${rest > 0 ? ` and ${rest} more, named in the log` : ''})`;
    failedDays.set(day, `${f.error.message}${more}`);
  }
  return failedDays;
}
const MORE_NAMED = 3;
