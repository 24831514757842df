import {
  BIGINT,
  BOOLEAN,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { RecordFields } from '../config.js';
import type { DayKey, DayWindow, IdFactGroup, IdFacts, LandedCounts, LineCountsRow, ProxyLineCounts, RejectClass, Site } from '../domain.js';
import { AbortedError } from '../errors.js';
import type { StagedObject } from '../tiers/record-tier.js';
import { dayBuckets } from '../dates.js';
import { loadQuery } from './queries.js';
import { buildRecordColumns } from './record-columns.js';

export interface EngineOptions {
  memoryLimit: string;
  threads?: number;
  /** A scratch folder of this run: what spills past memoryLimit goes here. */
  tempDirectory: string;
}

/** Lines counted in no other column: malformed, or in a folder that cannot hold their date. */
export interface LineIssues {
  malformed: number;
  outOfWindow: number;
}

export interface MissingId {
  site: Site;
  requestId: string;
  facts: IdFacts;
}

/** Tiers that arrive as streams of rows (not files): appended into the engine as they are read. */
export type StreamedTier = 'kafka' | 'bigquery';

/** One row of a streamed tier: a Kafka message, or a BigQuery result row standing for `n` rows. */
export interface StreamedRow {
  /** The Kafka cluster; null for BigQuery. */
  region: string | null;
  timestampMs: number;
  requestId: string | null;
  /** The raw site header; null when absent. */
  siteHeader: string | null;
  /** Kafka: past the sink group's committed offset. */
  inFlight: boolean;
  n: number;
}

/** A Kafka message as the Kafka adapter decodes it: only what the counts need. */
export interface KafkaMessageRow {
  cluster: string;
  timestampMs: number;
  requestId: string | null;
  siteHeader: string | null;
  inFlight: boolean;
}

export interface StreamedCountRow {
  day: DayKey;
  site: Site;
  /** The Kafka cluster; empty for BigQuery. */
  region: string;
  kind: 'record' | 'malformed';
  n: number;
  distinct: number;
}

type LandedTier = 'gcs';
const AGG_TABLE = { proxy: 'agg_proxy', gcs: 'agg_gcs' } as const;
const IDS_TABLE = { proxy: 'ids_proxy', gcs: 'ids_gcs' } as const;

/**
 * The embedded counting engine: DuckDB, which parses NDJSON on every core and spills joins and
 * aggregations to `tempDirectory` past `memoryLimit`, so a day ten times larger needs disk, not RAM.
 * Holds one batch of days at a time; every method is one query over the loaded tables.
 */
export class DuckDbEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
  ) {}

  static async open(options: EngineOptions): Promise<DuckDbEngine> {
    const settings: Record<string, string> = {
      memory_limit: options.memoryLimit,
      temp_directory: options.tempDirectory,
      preserve_insertion_order: 'false',
    };
    if (options.threads) settings.threads = String(options.threads);
    // In memory, yet bounded: past memory_limit, DuckDB spills tables, joins and aggregations to temp_directory.
    const instance = await DuckDBInstance.create(':memory:', settings);
    const db = await instance.connect();
    // A timestamp string without an offset means UTC, whatever the machine's zone.
    await db.run(`SET TimeZone = 'UTC'`);
    return new DuckDbEngine(instance, db);
  }

  /** Stops the running query when `signal` fires. */
  watch(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => {};
    this.signal = signal;
    const onAbort = () => this.db.interrupt();
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  private signal: AbortSignal | undefined;

  /** A query that fails because the run was aborted is an abort, whatever DuckDB calls it. */
  private rethrow(e: unknown): Error {
    return this.signal?.aborted ? new AbortedError() : (e as Error);
  }

  close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }

  private async run(sql: string, values?: Record<string, DuckDBValue>, types?: Record<string, never>): Promise<void> {
    try {
      await this.db.run(sql, values, types);
    } catch (e) {
      throw this.rethrow(e);
    }
  }

  private async rows(sql: string, values?: Record<string, DuckDBValue>): Promise<Record<string, unknown>[]> {
    try {
      const reader = await this.db.runAndReadAll(sql, values);
      return reader.getRowObjectsJS() as Record<string, unknown>[];
    } catch (e) {
      throw this.rethrow(e);
    }
  }

  private buckets: { firstBucket: number; days: DayKey[] } = { firstBucket: 0, days: [] };

  /** The report days of this batch, as instants in the configured zone. */
  async setWindows(windows: DayWindow[]): Promise<void> {
    this.buckets = dayBuckets(windows);
    await this.run(`CREATE OR REPLACE TABLE windows AS SELECT CAST(unnest($days) AS DATE) AS day`, {
      days: listValue(windows.map((w) => w.day)),
    }, { days: LIST(VARCHAR) } as never);
  }

  /** Parses and aggregates a tier's staged files in one pass; nothing per line is held, in DuckDB or here. */
  async loadRecords(
    tier: 'proxy' | LandedTier,
    staged: StagedObject[],
    fields: RecordFields,
    sites: string[],
    lateDays: number,
  ): Promise<void> {
    const table = AGG_TABLE[tier];
    if (staged.length === 0) {
      // read_ndjson needs at least one file: an empty table of the same shape stands for "nothing there".
      await this.run(`CREATE OR REPLACE TABLE ${table} AS
        SELECT NULL::VARCHAR AS kind, NULL::DATE AS day, NULL::VARCHAR AS site, NULL::VARCHAR AS rid, 0::BIGINT AS n,
               0::BIGINT AS ok_lines, 0::BIGINT AS lines_413, 0::BIGINT AS lines_502, false AS unroutable,
               NULL::INTEGER AS last_reject, 0::BIGINT AS late
        WHERE false`);
    } else {
      // One scan per folder date, so that each line's folder is a constant rather than a join on its file name.
      const folders = new Map<DayKey | null, string[]>();
      for (const s of staged) folders.set(s.folderDay, [...(folders.get(s.folderDay) ?? []), s.path]);
      const { columns, expr } = buildRecordColumns(fields, `tiers.${tier}.fields`);
      const values: Record<string, DuckDBValue> = {
        bucket_days: listValue(this.buckets.days),
        first_bucket: BigInt(this.buckets.firstBucket),
        sites: listValue(sites),
        late_days: BigInt(lateDays),
        status_required: tier === 'proxy',
      };
      const types: Record<string, DuckDBType> = {
        bucket_days: LIST(VARCHAR), first_bucket: BIGINT, sites: LIST(VARCHAR), late_days: BIGINT, status_required: BOOLEAN,
      };
      const sources = [...folders].map(([folderDay, paths], i) => {
        values[`paths_${i}`] = listValue(paths);
        values[`folder_day_${i}`] = folderDay;
        values[`folder_epoch_day_${i}`] = folderDay === null ? null : BigInt(Date.parse(`${folderDay}T00:00:00Z`) / 86_400_000);
        Object.assign(types, { [`paths_${i}`]: LIST(VARCHAR), [`folder_day_${i}`]: VARCHAR, [`folder_epoch_day_${i}`]: BIGINT });
        return loadQuery('duckdb', 'read-source', { i: String(i), columns, ...expr });
      });
      const aggregates = loadQuery('duckdb', tier === 'proxy' ? 'aggregates-proxy' : 'aggregates-landed');
      await this.run(loadQuery('duckdb', 'load-records', { table, sources: sources.join('\n  UNION ALL\n  '), aggregates }), values, types as never);
    }
    await this.run(loadQuery('duckdb', 'ids-views', { ids_table: IDS_TABLE[tier], agg_table: table }));
  }

  /** Stands in for a tier that is not configured or not readable: no ids, so joins still work. */
  async loadEmpty(tier: 'proxy' | LandedTier): Promise<void> {
    await this.loadRecords(tier, [], defaultFields, [], 0);
  }

  async proxyCounts(): Promise<LineCountsRow<Omit<ProxyLineCounts, 'malformed' | 'rejectedOther'>>[]> {
    const rows = await this.rows(loadQuery('duckdb', 'proxy-counts'));
    return rows.map((r) => ({
      day: String(r.day),
      site: String(r.site),
      counts: { lines: num(r.lines), accepted: num(r.accepted), rejected413: num(r.rejected_413), rejected502: num(r.rejected_502) },
    }));
  }

  async landedCounts(tier: LandedTier): Promise<LineCountsRow<Omit<LandedCounts, 'malformed'>>[]> {
    const rows = await this.rows(loadQuery('duckdb', 'landed-counts', { ids_table: IDS_TABLE[tier] }));
    return rows.map((r) => ({
      day: String(r.day),
      site: String(r.site),
      counts: { records: num(r.records), distinct: num(r.distinct_ids), late: num(r.late) },
    }));
  }

  async lineIssues(tier: 'proxy' | LandedTier): Promise<LineCountsRow<LineIssues>[]> {
    const rows = await this.rows(loadQuery('duckdb', 'line-issues', { agg_table: AGG_TABLE[tier] }));
    const byKey = new Map<string, LineCountsRow<LineIssues>>();
    for (const r of rows) {
      const key = `${String(r.day)}|${String(r.site)}`;
      let row = byKey.get(key);
      if (!row) byKey.set(key, (row = { day: String(r.day), site: String(r.site), counts: { malformed: 0, outOfWindow: 0 } }));
      if (r.kind === 'malformed') row.counts.malformed += num(r.n);
      else row.counts.outOfWindow += num(r.n);
    }
    return [...byKey.values()];
  }

  /** Starts a streamed tier's table; rows arrive through appendStreamed, then finishStreamed. */
  async beginStreamed(tier: StreamedTier): Promise<void> {
    await this.run(loadQuery('duckdb', 'streamed-raw', { raw_table: `raw_${tier}` }));
  }

  /** Appends a batch of rows; called as the adapter reads, so nothing is held in JavaScript. */
  async appendStreamed(tier: StreamedTier, rows: readonly StreamedRow[]): Promise<void> {
    const appender = await this.db.createAppender(`raw_${tier}`);
    for (const r of rows) {
      if (r.region === null) appender.appendNull();
      else appender.appendVarchar(r.region);
      appender.appendBigInt(BigInt(r.timestampMs));
      if (r.requestId === null) appender.appendNull();
      else appender.appendVarchar(r.requestId);
      if (r.siteHeader === null) appender.appendNull();
      else appender.appendVarchar(r.siteHeader);
      appender.appendBoolean(r.inFlight);
      appender.appendBigInt(BigInt(r.n));
      appender.endRow();
    }
    appender.closeSync();
  }

  /** Aggregates the appended rows per day, site, request id and region. */
  async finishStreamed(tier: StreamedTier, sites: string[]): Promise<void> {
    await this.run(
      loadQuery('duckdb', 'streamed-aggregate', { raw_table: `raw_${tier}`, agg_table: `agg_${tier}` }),
      { bucket_days: listValue(this.buckets.days), first_bucket: BigInt(this.buckets.firstBucket), sites: listValue(sites) },
      { bucket_days: LIST(VARCHAR), first_bucket: BIGINT, sites: LIST(VARCHAR) } as never,
    );
    await this.run(`DROP TABLE raw_${tier}`);
    await this.run(loadQuery('duckdb', tier === 'kafka' ? 'ids-kafka-view' : 'ids-bigquery-view'));
  }

  async streamedCounts(tier: StreamedTier): Promise<StreamedCountRow[]> {
    const rows = await this.rows(loadQuery('duckdb', 'streamed-counts', { agg_table: `agg_${tier}` }));
    return rows.map((r) => ({
      day: String(r.day),
      site: String(r.site),
      region: String(r.region),
      kind: r.kind as 'record' | 'malformed',
      n: num(r.n),
      distinct: num(r.distinct_ids),
    }));
  }

  /**
   * Joins the proxy's ids with Kafka's and the final tier's, once per batch; idFacts and
   * missingIds read the result. `kafkaDays`: the days Kafka was read whole.
   */
  async joinIds(kafkaDays: DayKey[], finalIsBigquery: boolean): Promise<void> {
    await this.run(
      loadQuery('duckdb', 'id-facts'),
      { kafka_days: listValue(kafkaDays), final_is_bigquery: finalIsBigquery },
      { kafka_days: LIST(VARCHAR), final_is_bigquery: BOOLEAN } as never,
    );
  }

  async idFacts(): Promise<IdFactGroup[]> {
    const rows = await this.rows(loadQuery('duckdb', 'id-fact-groups'));
    return rows.map((r) => ({
      day: String(r.day),
      site: String(r.site),
      inProxy: Boolean(r.in_proxy),
      accepted: Boolean(r.accepted),
      rejected: Boolean(r.rejected),
      lastReject: (r.last_reject ?? null) as RejectClass | null,
      unroutable: Boolean(r.unroutable),
      kafkaKnown: Boolean(r.kafka_known),
      inKafka: Boolean(r.in_kafka),
      crossRegion: Boolean(r.cross_region),
      inFlight: Boolean(r.in_flight),
      inGcs: Boolean(r.in_gcs),
      inBigquery: Boolean(r.in_bigquery),
      inFinal: Boolean(r.in_final),
      ids: num(r.ids),
    }));
  }

  /** Streams one day's missing ids in report order, a chunk at a time. */
  async *missingIds(day: DayKey, sites: string[]): AsyncGenerator<MissingId[]> {
    let result;
    try {
      result = await this.db.stream(loadQuery('duckdb', 'missing-ids'), { day, sites: listValue(sites) }, {
        day: VARCHAR,
        sites: LIST(VARCHAR),
      });
    } catch (e) {
      throw this.rethrow(e);
    }
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      const [site, rid, unroutable, kafkaKnown, inKafka, inFlight, inGcs] = [0, 1, 2, 3, 4, 5, 6].map((c) => chunk.getColumnVector(c));
      const out: MissingId[] = new Array(chunk.rowCount);
      for (let i = 0; i < chunk.rowCount; i++) {
        out[i] = {
          site: String(site!.getItem(i)),
          requestId: String(rid!.getItem(i)),
          facts: {
            inProxy: true, accepted: true, rejected: false, lastReject: null, unroutable: Boolean(unroutable!.getItem(i)),
            kafkaKnown: Boolean(kafkaKnown!.getItem(i)), inKafka: Boolean(inKafka!.getItem(i)), crossRegion: false,
            inFlight: Boolean(inFlight!.getItem(i)), inGcs: Boolean(inGcs!.getItem(i)), inBigquery: false, inFinal: false,
          },
        };
      }
      yield out;
    }
  }
}

const defaultFields: RecordFields = { timestamp: 'timestamp', request_id: 'request_id', site: 'site', status: 'status', region: 'region' };

function num(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  return Number(v);
}


