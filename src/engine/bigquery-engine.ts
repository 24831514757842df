import { randomUUID } from 'node:crypto';
import { ensureDir } from '../folders.js';
import type { BigQuery, Query } from '@google-cloud/bigquery';
import type { BigqueryRangeReader, DayKey, DayWindow, IdFactGroup, LineCountsRow, ProxyLineCounts } from '../domain.js';
import { InternalError } from '../errors.js';
import { createBigqueryClient } from '../bigquery/client.js';
import { type ErrorContext, toTierError } from '../bigquery/errors.js';
import { BIGQUERY_PAGE_ROWS, bytesOf, JobRunner, QUERY_DEADLINE_MS } from '../bigquery/jobs.js';
import { parseDataset, parseTable, type TableRef, tableIdentifiers } from '../bigquery/names.js';
import { rangeParams, statusValue, tableRowsWindow } from '../bigquery/table-query.js';
import {
  type CountingEngine,
  foldLineIssues,
  type LineIssues,
  type MissingId,
  rowsOf,
  type StreamedCountRow,
  type TimedStreamedRow,
  type StreamedTier,
  type TableTier,
} from './engine.js';
import { loadQuery } from '../queries.js';
import { KAFKA_ROWS_PER_LOAD, KafkaLoadFiles, loadKafkaFile } from './kafka-load-files.js';
import { bigqueryComparing, bigqueryTagIds } from './compare-bigquery.js';
import type { PayloadComparing } from './compare.js';
import { type CompareSql, compareSqlOf } from './compare-sql.js';
import { missingSql } from './fact-sql.js';
import { foldWindows, type WindowCounting } from './loss-windows.js';
import { type SiteZoning, siteZoneParams, ZONE_PARAM_TYPES } from '../site-zones.js';

type Rows = Record<string, unknown>[];
export interface BigqueryEngineOptions {
  /** `project.dataset` for the scratch tables: in the location of the tables read. */
  dataset: string;
  /** The project that runs (and pays for) the jobs. */
  jobProject: string;
  location?: string;
  apiEndpoint?: string;
  maximumBytesBilled: string;
  /** The IANA zone days are cut in. */
  timezone: string;
  /** A local scratch folder: Kafka's rows wait here, on disk, for their load job. */
  tempDirectory: string;
  pageSize?: number;
  queryDeadlineMs?: number;
  /** Kafka rows per load job; default {@link KAFKA_ROWS_PER_LOAD}. */
  rowsPerLoad?: number;
  /** The compared fields (`compare`): Kafka's values and the landed table's columns are hashed here. */
  compare?: readonly string[];
}

/** A scratch table outlives a crashed run by at most this long (BigQuery deletes it). */
const SCRATCH_LIFETIME_MS = 6 * 60 * 60 * 1000;

type Scratch = 'agg_proxy' | 'agg_bigquery' | 'raw_kafka' | 'agg_kafka' | 'id_facts' | 'content_mismatch';

/**
 * The counting engine for days too big for one pod: every request-id-level step (aggregation per
 * id, distinct counts, the joins across tiers, the missing-id anti-join) runs as a BigQuery job over
 * the proxy and landed tables, into scratch tables of `dataset`; the pod holds only small results
 * (counts per day × site × fact group) and the missing list a page at a time. Kafka's messages,
 * which only the pod can read, are written to local files as they arrive and loaded a million rows
 * per load job. The SQL follows the embedded engine's step for step (queries/bigquery/engine/; the
 * id facts are a UNION ALL + GROUP BY where DuckDB joins), and the tests hold both to the same numbers.
 */
export class BigqueryEngine implements CountingEngine {
  readonly windows: WindowCounting = {
    lossWindows: async (day, sites) =>
      foldWindows(await this.select('window-groups', { id_facts: this.table('id_facts').sql }, { day }), sites),
  };
  private readonly runId = randomUUID().replaceAll('-', '').slice(0, 16);
  private readonly jobs: JobRunner;
  private readonly scratchDataset: { project: string; dataset: string };
  private readonly created = new Set<string>();
  /** The status expression of each proxy table read (statusValue). */
  private readonly statusValues = new Map<string, string>();
  private days: { days: DayKey[]; zoning?: SiteZoning } = { days: [] };
  private signal: AbortSignal | undefined;
  private cmp: CompareSql | undefined;
  compare?: PayloadComparing;
  /** Kafka's rows on their way to raw_kafka. */
  private readonly kafka: KafkaLoadFiles;

  private constructor(
    private readonly bq: BigQuery,
    private readonly options: BigqueryEngineOptions,
    scratchDataset: { project: string; dataset: string },
  ) {
    this.scratchDataset = scratchDataset;
    this.jobs = new JobRunner(bq, options, options.queryDeadlineMs ?? QUERY_DEADLINE_MS);
    this.kafka = new KafkaLoadFiles({
      directory: options.tempDirectory,
      runId: this.runId,
      rowsPerLoad: options.rowsPerLoad ?? KAFKA_ROWS_PER_LOAD,
      load: (file, first) => this.loadKafkaFile(file, first),
      toError: (e) => toTierError(e, this.context('engine', 'bigquery')),
    });
  }

  /**
   * The engine on the run's `client` (the one the tiers and the history writer share); without one,
   * a client of its own is made from the options (tests, one-off use).
   */
  static async open(options: BigqueryEngineOptions, client?: BigQuery): Promise<BigqueryEngine> {
    const scratchDataset = parseDataset(options.dataset);
    if (!scratchDataset) throw new InternalError(`bigquery engine: "${options.dataset}" is not project.dataset`);
    await ensureDir(options.tempDirectory);
    const bq =
      client ??
      createBigqueryClient({
        projectId: options.jobProject,
        ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
        ...(options.location ? { location: options.location } : {}),
      });
    const engine = new BigqueryEngine(bq, options, scratchDataset);
    engine.cmp = compareSqlOf(options.compare);
    if (engine.cmp) engine.compare = bigqueryComparing(engine.cmp, engine);
    return engine;
  }

  /** Every job and page read is given the signal: an abort cancels the running job. */
  watch(signal: AbortSignal | undefined): () => void {
    this.signal = signal;
    return () => {
      this.signal = undefined;
    };
  }

  /** Drops the run's scratch tables (they expire by themselves when this cannot). */
  async close(): Promise<void> {
    await this.kafka.discard();
    const drop = (id: string) => this.scratchTable(id).delete();
    await Promise.all([...this.created].map((id) => drop(id).catch(() => undefined)));
    this.created.clear();
  }

  async setWindows(windows: DayWindow[], zoning?: SiteZoning): Promise<void> {
    this.days = { days: windows.map((w) => w.day), ...(zoning ? { zoning } : {}) };
  }

  async loadTable(tier: TableTier, reader: BigqueryRangeReader, startMs: number, endMs: number, sites: string[]) {
    const { query, context, target } = await this.tableQuery(tier, reader, startMs, endMs, sites);
    const metadata = await this.create(target, query, context);
    return { rows: null, bytesProcessed: bytesOf(metadata) };
  }

  /** The statement loadTable runs, estimated by a dry run: `params` printable (ISO timestamps, dates). */
  async dryRunTable(
    tier: TableTier,
    reader: BigqueryRangeReader,
    startMs: number,
    endMs: number,
    sites: string[],
  ): Promise<{ sql: string; params: Record<string, unknown>; bytes: number }> {
    const { query, context, printable } = await this.tableQuery(tier, reader, startMs, endMs, sites);
    try {
      return { ...(await this.jobs.dryRun(query)), params: printable };
    } catch (e) {
      throw toTierError(e, context);
    }
  }

  private async tableQuery(
    tier: TableTier,
    reader: BigqueryRangeReader,
    startMs: number,
    endMs: number,
    sites: string[],
  ) {
    const spec = reader.spec;
    if (!spec) throw new InternalError(`bigquery engine: the ${tier} reader names no table`);
    const source = parseTable(spec.table, tier === 'proxy' ? 'tiers.proxy.bigquery.table' : 'tiers.bigquery.table');
    const range = rangeParams(startMs, endMs, spec.partitionMarginDays);
    const target = this.table(tier === 'proxy' ? 'agg_proxy' : 'agg_bigquery');
    const identifiers: Record<string, string> = { ...tableIdentifiers(source, spec.columns), target: target.sql };
    Object.assign(identifiers, bigqueryTagIds(this.cmp).column, tableRowsWindow(identifiers, '@days'));
    if (tier === 'proxy') {
      try {
        // Looked up once per table and run, not per batch.
        let value = this.statusValues.get(source.name);
        if (value === undefined)
          this.statusValues.set(
            source.name,
            (value = await statusValue(this.bq, source, spec.columns.status ?? 'status', this.signal)),
          );
        identifiers.status_value = value;
      } catch (e) {
        throw toTierError(e, this.context('read', tier, source));
      }
    }
    const query: Query = {
      query: loadQuery('bigquery', `engine/agg-${tier}`, { ...identifiers, zoned: ZONED() }),
      params: { ...range.params, ...this.dayParams(sites) },
      types: { ...range.types, ...DAY_TYPES },
    };
    return {
      query,
      target,
      context: this.context('read', tier, source),
      printable: { ...range.printable, ...this.dayParams(sites) },
    };
  }

  async loadEmpty(tier: TableTier): Promise<void> {
    const target = this.table(tier === 'proxy' ? 'agg_proxy' : 'agg_bigquery');
    await this.create(
      target,
      { query: loadQuery('bigquery', `engine/empty-${tier}`, { target: target.sql }) },
      this.context('engine', tier),
    );
  }

  async beginStreamed(_tier: 'kafka'): Promise<void> {
    await this.kafka.begin();
  }

  /** Written to local files as read, each loaded (one load job) once it holds `rowsPerLoad` rows. */
  async appendStreamed(_tier: 'kafka', rows: readonly TimedStreamedRow[]): Promise<void> {
    await this.kafka.append(rows);
  }

  /** Loads what is left, then the same aggregation as the embedded engine's. */
  async finishStreamed(_tier: 'kafka', sites: string[]): Promise<void> {
    const loaded = await this.kafka.finish();
    const [target, raw] = [this.table('agg_kafka'), this.table('raw_kafka').sql];
    const context = this.context('engine', 'bigquery');
    if (!loaded) {
      await this.create(
        target,
        { query: loadQuery('bigquery', 'engine/empty-kafka', { target: target.sql }) },
        context,
      );
      return;
    }
    await this.create(
      target,
      {
        query: loadQuery('bigquery', 'engine/agg-kafka', {
          target: target.sql,
          raw,
          zoned: ZONED(),
          ...bigqueryTagIds(this.cmp).payload,
        }),
        params: this.dayParams(sites),
        types: DAY_TYPES,
      },
      context,
    );
  }

  /** One file of Kafka's rows into raw_kafka: the batch's first replaces the table, the others append. */
  private async loadKafkaFile(file: string, first: boolean): Promise<void> {
    const { tableId } = this.table('raw_kafka');
    await loadKafkaFile(this.scratchTable(tableId), file, first, this.options.location);
    await this.track(tableId);
  }

  async proxyCounts(): Promise<LineCountsRow<Omit<ProxyLineCounts, 'malformed' | 'rejectedOther'>>[]> {
    return rowsOf.proxyCounts(await this.select('proxy-counts', { agg_proxy: this.table('agg_proxy').sql }));
  }

  async lineIssues(_tier: 'proxy'): Promise<LineCountsRow<LineIssues>[]> {
    return foldLineIssues(await this.select('line-issues', { agg: this.table('agg_proxy').sql }));
  }

  async streamedCounts(tier: StreamedTier): Promise<StreamedCountRow[]> {
    const agg = this.table(tier === 'kafka' ? 'agg_kafka' : 'agg_bigquery').sql;
    return rowsOf.streamedCounts(
      await this.select('streamed-counts', { agg, region: tier === 'kafka' ? "IFNULL(region, '')" : "''" }),
    );
  }

  async joinIds(kafkaDays: DayKey[], finalIsBigquery: boolean): Promise<void> {
    if (!finalIsBigquery) throw new InternalError('bigquery engine: the final tier is always BigQuery');
    const target = this.table('id_facts');
    await this.create(
      target,
      {
        query: loadQuery('bigquery', 'engine/id-facts', {
          target: target.sql,
          agg_proxy: this.table('agg_proxy').sql,
          agg_kafka: this.table('agg_kafka').sql,
          agg_bigquery: this.table('agg_bigquery').sql,
        }),
        params: { kafka_days: kafkaDays },
        types: { kafka_days: ['STRING'] },
      },
      this.context('engine', 'bigquery'),
    );
  }

  async idFacts(): Promise<IdFactGroup[]> {
    return rowsOf.idFacts(await this.select('id-fact-groups', { id_facts: this.table('id_facts').sql }));
  }

  async *missingIds(day: DayKey, sites: string[]): AsyncGenerator<MissingId[]> {
    const context = this.context('engine', 'bigquery');
    const query: Query = {
      query: loadQuery('bigquery', 'engine/missing-ids', {
        id_facts: this.table('id_facts').sql,
        missing: missingSql('f.'),
      }),
      params: { day, sites },
      types: { day: 'STRING', sites: ['STRING'] },
    };
    try {
      const { pages } = await this.jobs.runPaged(query, context, this.pageSize, this.signal);
      for await (const page of pages) {
        yield page.map((r) =>
          rowsOf.missingId(
            r.site,
            r.request_id,
            r.unroutable,
            r.kafka_known,
            r.in_kafka,
            r.in_flight,
            r.in_gcs,
            r.accepted_ms,
          ),
        );
      }
    } catch (e) {
      throw toTierError(e, context);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private get pageSize(): number {
    return this.options.pageSize ?? BIGQUERY_PAGE_ROWS;
  }

  /** A scratch table of this run, by role: one name per run, replaced batch by batch. */
  table(role: Scratch): TableRef {
    const tableId = `audit_parity_${this.runId}_${role}`;
    return parseTable(`${this.scratchDataset.project}.${this.scratchDataset.dataset}.${tableId}`, 'engine.dataset');
  }

  private dayParams(sites: string[]): Record<string, unknown> {
    return { zone: this.options.timezone, days: this.days.days, sites, ...siteZoneParams(this.days.zoning) };
  }

  context(op: ErrorContext['op'], tier: 'proxy' | 'bigquery', source?: TableRef): ErrorContext {
    const object = source?.name ?? this.options.dataset;
    return {
      op,
      tier,
      key: tier === 'proxy' ? 'tiers.proxy.bigquery' : 'tiers.bigquery',
      object,
      table: object,
      engineDataset: this.options.dataset,
      jobProject: this.options.jobProject,
      maximumBytesBilled: this.options.maximumBytesBilled,
    };
  }

  /** Runs a statement that creates (or replaces) `target`, to its end; the table is tracked for close(). */
  async create(target: TableRef, query: Query, context: ErrorContext) {
    try {
      const { metadata } = await this.jobs.run(query, context, Date.now() + this.jobs.deadlineMs, this.signal);
      await this.track(target.tableId);
      return metadata;
    } catch (e) {
      throw toTierError(e, context);
    }
  }

  /**
   * Remembers a scratch table for close() and, the first time, gives it an expiry: tables left by a run
   * that crashed are deleted by BigQuery after SCRATCH_LIFETIME_MS.
   */
  private async track(tableId: string): Promise<void> {
    if (this.created.has(tableId)) return;
    this.created.add(tableId);
    await this.scratchTable(tableId).setMetadata({ expirationTime: String(Date.now() + SCRATCH_LIFETIME_MS) });
  }

  private scratchTable(tableId: string) {
    return this.bq.dataset(this.scratchDataset.dataset, { projectId: this.scratchDataset.project }).table(tableId);
  }

  /** A small result (counts per day × site × group), read whole. */
  async select(name: string, ids: Record<string, string>, params?: Query['params']): Promise<Rows> {
    const context = this.context('engine', 'bigquery');
    try {
      const query: Query = { query: loadQuery('bigquery', `engine/${name}`, ids), ...(params ? { params } : {}) };
      const { pages } = await this.jobs.runPaged(query, context, this.pageSize, this.signal);
      const rows: Record<string, unknown>[] = [];
      for await (const page of pages) rows.push(...page);
      return rows;
    } catch (e) {
      throw toTierError(e, context);
    }
  }
}

const DAY_TYPES = { zone: 'STRING', days: ['STRING'], sites: ['STRING'], ...ZONE_PARAM_TYPES };
/** The aggregations' `zoned` step, one text for all three (queries/bigquery/engine/zoned.sql). */
const ZONED = () => loadQuery('bigquery', 'engine/zoned');
