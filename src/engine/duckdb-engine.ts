import {
  BOOLEAN,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
  LIST,
  listValue,
  utf8OfBlob,
  VARCHAR,
} from './duckdb-api.js';
import type { RecordFields } from '../config.js';
import type {
  BigqueryRangeReader,
  DayKey,
  DayWindow,
  IdFactGroup,
  LandedCounts,
  LineCountsRow,
  ProxyLineCounts,
  StagedObject,
} from '../domain.js';
import { untilEnded } from '../errors.js';
import { duckDbFailure } from './duckdb-errors.js';
import { type DayLookup, dayLookupOf, EMPTY_LOOKUP, lookupParams } from './day-lookup.js';
import type { SiteZoning } from '../site-zones.js';
import { loadQuery } from '../queries.js';
import { missingSql } from './fact-sql.js';
import { appendStreamedRows } from './duckdb-append.js';
import { KafkaTagStage } from './kafka-stage.js';
import type { PayloadComparing } from './compare.js';
import { duckdbComparing } from './compare-duckdb.js';
import { type CompareSql, compareSqlOf, duckdbHashesAgg, duckdbPayloadTags } from './compare-sql.js';
import { foldWindows, type WindowCounting } from './loss-windows.js';
import { DEFAULT_FIELDS } from './record-columns.js';
import { type Connection, loadCheckingLines } from './line-check.js';
import { aggregateShape, cachedAggregateLookup, type ObjectCache, objectAggregates } from './object-cache.js';
import { loadWithSlices } from './day-slices.js';
import { emptyTable, linesStatement, type LoadSpec, loadStatement, type Statement } from './load-sql.js';
import {
  type CountingEngine,
  type FileCounting,
  type FileTier,
  foldLineIssues,
  type FolderReach,
  type LineIssues,
  type ReadByLine,
  type MissingId,
  rowsOf,
  type StreamedCountRow,
  type StreamedRow,
  type TimedStreamedRow,
  type StreamedTier,
  type TableTier,
} from './engine.js';

export interface EngineOptions {
  memoryLimit: string;
  threads?: number;
  /** A scratch folder of this run: what spills past memoryLimit goes here. */
  tempDirectory: string;
  /** The compared fields (`compare`): Kafka's and the landed tier's are hashed and compared. */
  compare?: readonly string[];
}

type LandedTier = 'gcs';
const AGG_TABLE = { proxy: 'agg_proxy', gcs: 'agg_gcs' } as const;
const IDS_TABLE = { proxy: 'ids_proxy', gcs: 'ids_gcs' } as const;

/**
 * The embedded counting engine: DuckDB, which parses NDJSON on every core and spills joins and
 * aggregations to `tempDirectory` past `memoryLimit`, so a day ten times larger needs disk, not RAM.
 * Holds one batch of days at a time; every method is one query over the loaded tables.
 */
export class DuckDbEngine implements CountingEngine, FileCounting {
  /** This engine parses file tiers itself. */
  readonly files: FileCounting = this;
  readonly windows: WindowCounting = {
    lossWindows: async (day, sites) =>
      foldWindows(await this.rows(loadQuery('duckdb', 'window-groups'), { day }), sites),
  };

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    private readonly scratch: string,
    private readonly memoryLimit: string,
    private readonly cmp?: CompareSql,
  ) {}

  compare?: PayloadComparing;

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
    const cmp = compareSqlOf(options.compare);
    const engine = new DuckDbEngine(instance, db, options.tempDirectory, options.memoryLimit, cmp);
    if (cmp) engine.compare = duckdbComparing(cmp, { run: engine.run.bind(engine), rows: engine.rows.bind(engine) });
    return engine;
  }

  /** Interrupts the running query when `signal` fires; a query that fails because of it throws AbortedError. */
  watch(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => {};
    this.signal = signal;
    const onAbort = () => [this.db, this.side].forEach((c) => c?.interrupt());
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  private signal: AbortSignal | undefined;
  /** With `compare`, where Kafka's rows wait for their tags. */
  private kafkaStage: KafkaTagStage | undefined;

  /** A query's failure as the run should see it (src/engine/duckdb-errors.ts). */
  private rethrow(e: unknown): Error {
    return duckDbFailure(e, { aborted: this.signal?.aborted === true, memoryLimit: this.memoryLimit });
  }

  async close(): Promise<void> {
    this.side?.closeSync();
    this.db.closeSync();
    this.instance.closeSync();
  }

  /** A second connection, so that two objects are aggregated at once for the cache. */
  private side: DuckDBConnection | undefined;

  private async connections(): Promise<Connection[]> {
    if (!this.side) {
      this.side = await this.instance.connect();
      await this.side.run(`SET TimeZone = 'UTC'`);
    }
    return [this.db, this.side].map((db) => this.connection(db));
  }

  /** A connection's statements, failing as the run should see it. */
  private connection(db: DuckDBConnection): Connection {
    const rethrow = (e: unknown) => Promise.reject(this.rethrow(e));
    return {
      appender: (table) => db.createAppender(table).catch(rethrow),
      run: (sql, values, types) => db.run(sql, values, types).then(() => undefined, rethrow),
      rows: (sql, values, types) =>
        db.runAndReadAll(sql, values, types).then((r) => r.getRowObjectsJS() as Record<string, unknown>[], rethrow),
    };
  }

  private async run(sql: string, values?: Record<string, DuckDBValue>, types?: Record<string, never>): Promise<void> {
    try {
      await this.db.run(sql, values, types);
    } catch (e) {
      throw this.rethrow(e);
    }
  }

  private runStatement(st: Statement | string): Promise<void> {
    return typeof st === 'string' ? this.run(st) : this.run(st.sql, st.values, st.types as never);
  }

  private async rows(sql: string, values?: Record<string, DuckDBValue>): Promise<Record<string, unknown>[]> {
    try {
      const reader = await this.db.runAndReadAll(sql, values);
      return reader.getRowObjectsJS() as Record<string, unknown>[];
    } catch (e) {
      throw this.rethrow(e);
    }
  }

  private lookup: DayLookup = EMPTY_LOOKUP;

  /** The report days of this batch, as instants in the configured zone; a site with a zone of its own, in it. */
  async setWindows(windows: DayWindow[], zoning?: SiteZoning): Promise<void> {
    this.lookup = dayLookupOf(windows, zoning ?? { timezone: 'UTC' });
    await this.run(
      `CREATE OR REPLACE TABLE windows AS SELECT CAST(unnest($days) AS DATE) AS day`,
      { days: listValue(windows.map((w) => w.day)) },
      { days: LIST(VARCHAR) } as never,
    );
  }

  cachedAggregate(tier: FileTier, fields: RecordFields, cache: ObjectCache) {
    return cachedAggregateLookup(cache, tier, fields, tier === 'gcs' ? this.cmp : undefined);
  }

  /** Parses and aggregates a tier's staged files in one pass; nothing per line is held, in DuckDB or here. */
  async loadFiles(
    tier: FileTier,
    staged: StagedObject[],
    fields: RecordFields,
    sites: string[],
    reach: FolderReach,
    cache?: ObjectCache,
  ): Promise<ReadByLine[]> {
    const table = AGG_TABLE[tier];
    const cmp = tier === 'gcs' ? this.cmp : undefined;
    const byLine: ReadByLine[] = [];
    if (staged.length === 0) {
      // read_ndjson needs at least one file: an empty table of the same shape stands for "nothing there".
      await this.run(emptyTable(table));
    } else {
      const spec: LoadSpec = {
        tier,
        table,
        fields,
        sites,
        ...reach,
        lookup: this.lookup,
        ...(cmp ? { compare: cmp } : {}),
      };
      if (cache) {
        // Each object is first its own aggregate (read from the cache, or made and kept); each day's rows, a slice.
        const aggregate = async (objects: StagedObject[], skipped: number) =>
          objectAggregates(
            await this.connections(),
            tier,
            objects,
            fields,
            cache,
            this.scratch,
            cmp,
            skipped,
            (o, why) => byLine.push({ url: o.url, why }),
          );
        const runner = { run: (st: Statement | string) => this.runStatement(st), scratch: this.scratch };
        await loadWithSlices(runner, spec, staged, cache, aggregateShape(tier, fields, cmp), aggregate);
      } else {
        const load = (lines: readonly StagedObject[]) =>
          this.runStatement(loadStatement(spec, staged, false, [], lines));
        const lines = await loadCheckingLines(this.connection(this.db), load, table, staged, tier, fields, cmp);
        byLine.push(...lines.map(({ object, why }) => ({ url: object.url, why })));
      }
    }
    await this.run(loadQuery('duckdb', 'ids-views', { ids_table: IDS_TABLE[tier], agg_table: table }));
    return byLine;
  }

  /**
   * A table's rows streamed in as the query's pages arrive. The proxy's go through the same
   * classification as its files (load-records.sql over the appended rows, one per table row);
   * the landed table's through the streamed aggregation.
   */
  async loadTable(tier: TableTier, reader: BigqueryRangeReader, startMs: number, endMs: number, sites: string[]) {
    const raw = `raw_${tier}`;
    await this.run(loadQuery('duckdb', 'streamed-raw', { raw_table: raw }));
    // The reader stops on the signal this engine watches: a stopped read throws AbortedError.
    const days = this.lookup.reportDays;
    const read = await reader.readRange(startMs, endMs, days, (rows) => this.append(raw, rows), this.signal);
    if (tier === 'bigquery') {
      await this.finishStreamed('bigquery', sites);
    } else {
      // A table has no folders: nothing is late or early for one.
      const spec = { table: AGG_TABLE.proxy, sites, lateDays: 0, clockSkewDays: 0, lookup: this.lookup };
      const { sql, values, types } = linesStatement(
        { ...spec, statusRequired: true },
        loadQuery('duckdb', 'read-streamed-source', { raw_table: raw }),
        loadQuery('duckdb', 'aggregates-proxy'),
      );
      await this.run(sql, values, types as never);
      await this.run(`DROP TABLE ${raw}`);
      await this.run(loadQuery('duckdb', 'ids-views', { ids_table: IDS_TABLE.proxy, agg_table: AGG_TABLE.proxy }));
    }
    return read;
  }

  async loadEmpty(tier: FileTier | TableTier): Promise<void> {
    if (tier === 'bigquery') {
      await this.beginStreamed('bigquery');
      await this.finishStreamed('bigquery', []);
    } else {
      await this.loadFiles(tier, [], DEFAULT_FIELDS, [], { lateDays: 0, clockSkewDays: 0 });
    }
  }

  async proxyCounts(): Promise<LineCountsRow<Omit<ProxyLineCounts, 'malformed' | 'rejectedOther'>>[]> {
    return rowsOf.proxyCounts(await this.rows(loadQuery('duckdb', 'proxy-counts')));
  }

  async landedCounts(tier: LandedTier): Promise<LineCountsRow<Omit<LandedCounts, 'malformed'>>[]> {
    return rowsOf.landedCounts(await this.rows(loadQuery('duckdb', 'landed-counts', { ids_table: IDS_TABLE[tier] })));
  }

  async lineIssues(tier: 'proxy' | LandedTier): Promise<LineCountsRow<LineIssues>[]> {
    return foldLineIssues(await this.rows(loadQuery('duckdb', 'line-issues', { agg_table: AGG_TABLE[tier] })));
  }

  /** Starts a streamed tier's table; rows arrive through appendStreamed, then finishStreamed. */
  async beginStreamed(tier: StreamedTier): Promise<void> {
    await this.run(loadQuery('duckdb', 'streamed-raw', { raw_table: `raw_${tier}` }));
    if (tier !== 'kafka' || !this.cmp) return;
    const [run, append] = [(sql: string) => this.run(sql), (t: string, r: readonly StreamedRow[]) => this.append(t, r)];
    this.kafkaStage = new KafkaTagStage(run, append, duckdbPayloadTags(this.cmp), 'raw_kafka');
    await this.kafkaStage.begin();
  }

  /** Appends a batch of rows as the adapter reads; with `compare`, Kafka's through its stage (kafka-stage.ts). */
  async appendStreamed(tier: StreamedTier, rows: readonly TimedStreamedRow[]): Promise<void> {
    if (tier === 'kafka' && this.kafkaStage) await this.kafkaStage.add(rows);
    else await this.append(`raw_${tier}`, rows);
  }

  private async append(table: string, rows: readonly StreamedRow[]): Promise<void> {
    try {
      await appendStreamedRows(this.db, table, rows);
    } catch (e) {
      throw this.rethrow(e);
    }
  }

  /** Aggregates the appended rows per day, site, request id and region. */
  async finishStreamed(tier: StreamedTier, sites: string[]): Promise<void> {
    const stage = tier === 'kafka' ? this.kafkaStage : undefined;
    const { table, tags } = stage ? await stage.finish() : { table: `raw_${tier}`, tags: duckdbPayloadTags(this.cmp) };
    await this.run(
      loadQuery('duckdb', 'streamed-aggregate', {
        raw_table: table,
        agg_table: `agg_${tier}`,
        tags,
        hashes: duckdbHashesAgg(this.cmp, 'tags'),
      }),
      { ...lookupParams(this.lookup, sites).values, sites: listValue(sites), site_header: tier === 'kafka' },
      { ...lookupParams(this.lookup, sites).types, sites: LIST(VARCHAR), site_header: BOOLEAN } as never,
    );
    await this.run(`DROP TABLE raw_${tier}`);
    await stage?.drop();
    await this.run(loadQuery('duckdb', tier === 'kafka' ? 'ids-kafka-view' : 'ids-bigquery-view'));
  }

  async streamedCounts(tier: StreamedTier): Promise<StreamedCountRow[]> {
    return rowsOf.streamedCounts(await this.rows(loadQuery('duckdb', 'streamed-counts', { agg_table: `agg_${tier}` })));
  }

  /**
   * Joins the proxy's ids with Kafka's and the final tier's, once per batch; idFacts and
   * missingIds read the result. `kafkaDays`: the days Kafka was read whole.
   */
  async joinIds(kafkaDays: DayKey[], finalIsBigquery: boolean): Promise<void> {
    // Without Kafka or BigQuery ids, their joins would only add false columns: one join does.
    const [streamed] = await this.rows(
      `SELECT (SELECT count(*) FROM ids_kafka) + (SELECT count(*) FROM ids_bigquery) AS n`,
    );
    await this.run(
      loadQuery('duckdb', Number(streamed!.n) === 0 ? 'id-facts-files' : 'id-facts'),
      { kafka_days: listValue(kafkaDays), final_is_bigquery: finalIsBigquery },
      { kafka_days: LIST(VARCHAR), final_is_bigquery: BOOLEAN } as never,
    );
  }

  async idFacts(): Promise<IdFactGroup[]> {
    return rowsOf.idFacts(await this.rows(loadQuery('duckdb', 'id-fact-groups')));
  }

  /**
   * Streams one day's missing ids in report order, a chunk at a time. An interrupted stream ends
   * with an empty chunk, as a finished one does: then the abort is thrown, never a short list.
   */
  missingIds(day: DayKey, sites: string[]): AsyncGenerator<MissingId[]> {
    return untilEnded(this.missingChunks(day, sites), this.signal);
  }

  private async *missingChunks(day: DayKey, sites: string[]): AsyncGenerator<MissingId[]> {
    let result;
    try {
      result = await this.db.stream(
        loadQuery('duckdb', 'missing-ids', { missing: missingSql() }),
        { day, sites: listValue(sites) },
        { day: VARCHAR, sites: LIST(VARCHAR) },
      );
    } catch (e) {
      throw this.rethrow(e);
    }
    for (;;) {
      let chunk;
      try {
        chunk = await result.fetchChunk();
      } catch (e) {
        throw this.rethrow(e);
      }
      if (!chunk || chunk.rowCount === 0) return;
      const cols = [0, 1, 2, 3, 4, 5, 6, 7].map((c) => chunk.getColumnVector(c));
      const out: MissingId[] = new Array(chunk.rowCount);
      for (let i = 0; i < chunk.rowCount; i++) {
        const v = (c: number): unknown => cols[c]!.getItem(i);
        out[i] = rowsOf.missingId(v(0), utf8OfBlob(v(1)), v(2), v(3), v(4), v(5), v(6), v(7));
      }
      yield out;
    }
  }
}
