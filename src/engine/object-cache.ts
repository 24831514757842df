import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ensureDir } from '../folders.js';
import path from 'node:path';
import type { RecordFields } from '../config.js';
import type { StagedObject } from '../domain.js';
import type { Logger } from '../log/logger.js';
import type { CacheStore } from '../storage/cache-store.js';
import { loadQuery } from '../queries.js';
import { type CompareSql, duckdbColumnTags, duckdbHashesAgg } from './compare-sql.js';
import { buildRecordColumns } from './record-columns.js';
import {
  type Connection,
  dropLines,
  type ReadByLine,
  lineCheckText,
  linesDiffering,
  readExactly,
  unreadableObjectOf,
} from './line-check.js';
import { duckdbPath, lineFieldsSql, sqlString } from './load-sql.js';

/** Bumped when an entry's meaning changes in a way the query texts below do not show. */
const FORMAT = 1;

/** An entry's manifest, written after its Parquet file: what it is of, and the digest that proves it whole. */
interface Manifest {
  format: number;
  object: string;
  identity: string;
  sha256: string;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Each file object's aggregate (queries/duckdb/object-aggregate.sql) kept by the object's identity, so
 * that an object is parsed once in its life: later runs (daily's re-checks, a backfill's neighbour
 * folders) read the small Parquet instead of the lines. An entry does not depend on the run's days,
 * zone, sites or late days, only on the object and the parse settings (tier kind, fields mapping, the
 * query texts), all in its name. A changed object has a new identity and so misses; an entry that does
 * not read back whole is deleted, logged and rebuilt, never trusted; every write is whole or absent to a
 * reader. The entries live in a CacheStore: a local folder or a gs:// prefix.
 */
/** The cache stores found unusable: a run's batches each have an ObjectCache, and share its store. */
const STORES_OFF = new WeakSet<CacheStore>();

export class ObjectCache {
  constructor(
    readonly entries: CacheStore,
    private readonly log: Logger,
    /** Where entries of a remote store are downloaded to be read: the run's scratch folder. */
    private readonly scratch: string,
  ) {}

  /** The entry's name: a digest of the object's identity and everything that shapes its aggregate. */
  entryName(identity: string, tier: string, fields: RecordFields, query: string): string {
    const settings = Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1));
    return sha256(JSON.stringify([FORMAT, identity, tier, settings, sha256(query)]));
  }

  /** Entries found absent or unusable: not fetched again until stored (an object is looked up when listed). */
  private readonly absent = new Set<string>();
  /**
   * Once the store refused a read or a write (a bucket that does not exist, a missing permission): the run
   * parses every object and keeps nothing from then on, said in one warning, not in one per object or batch
   * (the run's batches share the store: StoreRegistry.cacheStore).
   */
  private get off(): boolean {
    return STORES_OFF.has(this.entries);
  }

  private turnOff(doing: string, object: string, e: unknown): void {
    if (this.off) return;
    STORES_OFF.add(this.entries);
    this.log.warn(
      `cache: ${this.entries.where} cannot be used (${doing} ${object}: ${(e as Error).message}); this run parses ` +
        'every object and keeps nothing there: check that the bucket or folder exists and that the job may ' +
        'read, create and delete objects in it',
      { cache: this.entries.where, object },
    );
  }
  private scratchMade: Promise<unknown> | undefined;

  /** The entry's Parquet file, local, when it is there and whole; a damaged entry is removed (and logged). */
  async lookup(object: Pick<StagedObject, 'url' | 'identity'>, name: string): Promise<string | undefined> {
    if (this.off || this.absent.has(name)) return undefined;
    const file = await this.fetched(object, name);
    if (!file) this.absent.add(name);
    return file;
  }

  private async fetched(object: Pick<StagedObject, 'url' | 'identity'>, name: string): Promise<string | undefined> {
    let manifestFile: string | undefined;
    let file: string | undefined;
    try {
      await (this.scratchMade ??= ensureDir(this.scratch));
      manifestFile = await this.entries.fetch(`${name}.json`, this.scratch);
      if (!manifestFile) return undefined;
      file = await this.entries.fetch(`${name}.parquet`, this.scratch);
    } catch (e) {
      // A store that cannot be read costs speed only: the object is parsed, and the entry left alone.
      this.turnOff('reading the entry of', object.url, e);
      return undefined;
    }
    try {
      if (!file) throw new Error('its Parquet file is missing');
      const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
      const digest = sha256(await readFile(file));
      if (manifest.format !== FORMAT || manifest.identity !== object.identity || manifest.sha256 !== digest)
        return await this.discard(object, name, 'its content does not match its manifest');
    } catch (e) {
      return this.discard(object, name, (e as Error).message);
    }
    return file;
  }

  private async discard(object: Pick<StagedObject, 'url'>, name: string, why: string): Promise<undefined> {
    this.log.warn(`cache: the entry of ${object.url} is unreadable (${why}); making it again from the source`, {
      object: object.url,
      entry: `${this.entries.where}${this.entries.where.endsWith('/') ? '' : '/'}${name}`,
    });
    for (const ext of ['json', 'parquet']) await this.entries.remove(`${name}.${ext}`).catch(() => {});
    return undefined;
  }

  /** Keeps a just-made aggregate; a cache that cannot be written costs speed only (logged). */
  async store(object: Pick<StagedObject, 'url' | 'identity'>, name: string, made: string): Promise<void> {
    if (this.off) return;
    const manifestFile = `${made}.json`;
    try {
      const manifest: Manifest = {
        format: FORMAT,
        object: object.url,
        identity: object.identity!,
        sha256: sha256(await readFile(made)),
      };
      await writeFile(manifestFile, JSON.stringify(manifest));
      // The Parquet first: a manifest is only ever beside the file it describes.
      await this.entries.put(`${name}.parquet`, made);
      await this.entries.put(`${name}.json`, manifestFile);
      this.absent.delete(name);
    } catch (e) {
      this.turnOff('keeping the aggregate of', object.url, e);
    }
  }

  /** Logs how many of a tier's report days came from the cache whole (day-slices.ts). */
  reportDays(tier: string, hits: number, days: number): void {
    this.log.info(`${tier}: ${hits} of ${days} days from cache`, { tier, daysFromCache: hits, days });
  }

  /** Logs how many of a tier's objects came from the cache. */
  report(tier: string, hits: number, objects: number): void {
    this.log.info(`${tier}: ${hits} of ${objects} objects from cache`, { tier, fromCache: hits, objects });
  }
}

/**
 * The text of everything that shapes an object's aggregate: its query, and the line check's, which
 * may make it from the object's lines instead (line-check.ts). Part of its entry's name, and of its
 * days' (day-slices.ts): a change to either makes every entry again.
 */
export const aggregateShape = (tier: 'proxy' | 'gcs', fields: RecordFields, compare?: CompareSql): string =>
  aggregateQuery(tier, fields, compare)('') + lineCheckText();

/**
 * One object's aggregate query (object-aggregate.sql) for a file; with '' its shape, part of every entry's
 * name. `byLine`: its lines from parity_lines (line-check.ts) instead of read_ndjson; the same aggregate
 * when read_ndjson reads the object right, so the entry's name stays the shape of the fast read.
 */
function aggregateQuery(
  tier: 'proxy' | 'gcs',
  fields: RecordFields,
  compare?: CompareSql,
): (file: string, byLine?: boolean) => string {
  const { columns, expr, extraExpr } = buildRecordColumns(fields, `tiers.${tier}.fields`, compare?.paths);
  const tags = duckdbColumnTags(compare, extraExpr);
  return (file: string, byLine = false) =>
    loadQuery('duckdb', 'object-aggregate', {
      source: byLine
        ? loadQuery('duckdb', 'read-lines-object')
        : loadQuery('duckdb', 'read-object', {
            line_fields: lineFieldsSql(expr),
            columns,
            tags,
            path: sqlString(duckdbPath(file)),
          }),
      hashes: duckdbHashesAgg(compare, 'tags'),
      status_required: tier === 'proxy' ? 'true' : 'false',
      // Every line of the object, for whichever day asks: no filter.
      parse_lines: loadQuery('duckdb', 'parse-lines', { keep: '' }),
    });
}

/**
 * A listed object's entry, looked up before the object is staged (downloaded, its gzip checked): the
 * entry as a local file, or undefined when it has none yet. The same name objectAggregates gives it.
 */
export function cachedAggregateLookup(
  cache: ObjectCache,
  tier: 'proxy' | 'gcs',
  fields: RecordFields,
  compare?: CompareSql,
): (object: Pick<StagedObject, 'url' | 'identity'>) => Promise<string | undefined> {
  const shape = aggregateShape(tier, fields, compare);
  return async (object) =>
    object.identity ? cache.lookup(object, cache.entryName(object.identity, tier, fields, shape)) : undefined;
}

/**
 * Each staged object as its aggregate's Parquet file, from the cache or made now (and kept when the
 * object has an identity). `connections`: one per object to aggregate at once; `scratch`: this
 * run's folder for made files.
 * `compare`: the landed tier's compared fields, hashed into the entry (their paths are in its query, so in its name).
 * An object staged as its entry already (`aggregate`, found before staging) is taken as it is.
 */
export async function objectAggregates(
  connections: Connection[],
  tier: 'proxy' | 'gcs',
  staged: StagedObject[],
  fields: RecordFields,
  cache: ObjectCache,
  scratch: string,
  compare?: CompareSql,
  /** The tier's objects not passed here, each already its entry: counted as hits in the log line. */
  skipped = 0,
  /** Told of each object made from its lines read one at a time (src/engine/line-check.ts). */
  onByLine: (object: StagedObject, why: ReadByLine['why']) => void = () => {},
): Promise<StagedObject[]> {
  const query = aggregateQuery(tier, fields, compare);
  // The query's text without the path: part of every entry's name, so that a changed parse misses.
  const shape = aggregateShape(tier, fields, compare);
  await ensureDir(scratch);
  const out: StagedObject[] = new Array<StagedObject>(staged.length);
  let hits = 0;
  let next = 0;
  let failed = false;
  const kept: Promise<void>[] = [];
  // Objects are independent: each connection takes the next one (a gzip object is read on one core).
  const worker = async (conn: Connection) => {
    for (let i = next++; i < staged.length && !failed; i = next++) {
      const object = staged[i]!;
      if (object.aggregate) {
        hits++;
        out[i] = object;
        continue;
      }
      const name = object.identity ? cache.entryName(object.identity, tier, fields, shape) : undefined;
      const hit = name ? await cache.lookup(object, name) : undefined;
      if (hit) {
        hits++;
        out[i] = { ...object, path: hit };
        continue;
      }
      const made = path.join(scratch, `aggregate-${tier}-${i}.parquet`);
      const unread = await madeByFastRead(conn, object, made);
      if (unread !== null || (await misread(conn, made, object))) {
        await conn.run(`COPY (${query(object.path, true)}) TO ${sqlString(made)} (FORMAT parquet)`);
        await dropLines(conn);
        onByLine(object, unread ?? 'misread');
      }
      // Kept once the object proved whole (its gzip check runs beside this): a cut gzip is never an entry.
      if (name)
        kept.push(
          (object.checked ?? Promise.resolve(true)).then((ok) => (ok ? cache.store(object, name, made) : undefined)),
        );
      out[i] = { ...object, path: made };
    }
  };
  // The fast read of an object: null, or why it could not read it at all (its lines are then read exactly).
  const madeByFastRead = async (conn: Connection, object: StagedObject, made: string) => {
    try {
      await conn.run(`COPY (${query(object.path)}) TO ${sqlString(made)} (FORMAT parquet)`);
      return null;
    } catch (e) {
      const why = unreadableObjectOf(e, object);
      if (why === null) throw e;
      await readExactly(conn, [object], tier, fields, compare);
      return why;
    }
  };
  // A line with no usable timestamp and no site (every broken line is one): read_ndjson may have read the
  // line after it wrong, so the object is checked line by line (and its lines are read exactly if so).
  const misread = async (conn: Connection, made: string, object: StagedObject) => {
    const blankLines = 'bad AND bucket IS NULL AND site_value IS NULL';
    const [blank] = await conn.rows(
      `SELECT count(*) AS n FROM read_parquet(${sqlString(made)}, hive_partitioning = false) WHERE ${blankLines}`,
    );
    return Number(blank?.n ?? 0) > 0 && (await linesDiffering(conn, tier, [object], fields, compare)).size > 0;
  };
  // Every worker has stopped before this returns, so that no statement still runs on a connection after a failure.
  const settled = await Promise.allSettled(
    connections.map((conn) =>
      worker(conn).catch((e: unknown) => {
        failed = true;
        throw e;
      }),
    ),
  );
  await Promise.all(kept);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  cache.report(tier, hits + skipped, staged.length + skipped);
  return out;
}
