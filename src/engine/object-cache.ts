import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RecordFields } from '../config.js';
import type { StagedObject } from '../domain.js';
import type { Logger } from '../log/logger.js';
import { loadQuery } from '../queries.js';
import { type CompareSql, duckdbColumnTags, duckdbHashesAgg } from './compare-sql.js';
import { buildRecordColumns } from './record-columns.js';

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
const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Each file object's aggregate (queries/duckdb/object-aggregate.sql) kept by the object's identity, so
 * that an object is parsed once in its life: later runs (daily's re-checks, a backfill's neighbour
 * folders) read the small Parquet instead of the lines. An entry does not depend on the run's days,
 * zone, sites or late days, only on the object and the parse settings (tier kind, fields mapping, the
 * query texts), all in its name. A changed object has a new identity and so misses; an entry that does
 * not read back whole is deleted, logged and rebuilt, never trusted; every write is a temporary file
 * renamed into place.
 */
export class ObjectCache {
  constructor(
    readonly folder: string,
    private readonly log: Logger,
  ) {}

  /** The entry's name: a digest of the object's identity and everything that shapes its aggregate. */
  entryName(identity: string, tier: string, fields: RecordFields, query: string): string {
    const settings = Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1));
    return sha256(JSON.stringify([FORMAT, identity, tier, settings, sha256(query)]));
  }

  /** The entry's Parquet file when it is there and whole; a damaged entry is removed (and logged). */
  async lookup(object: StagedObject, name: string): Promise<string | undefined> {
    const file = path.join(this.folder, `${name}.parquet`);
    let manifestText: string;
    try {
      manifestText = await readFile(path.join(this.folder, `${name}.json`), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return this.discard(object, name, (e as Error).message);
    }
    try {
      const manifest = JSON.parse(manifestText) as Manifest;
      const digest = sha256(await readFile(file));
      if (manifest.format !== FORMAT || manifest.identity !== object.identity || manifest.sha256 !== digest)
        return this.discard(object, name, 'its content does not match its manifest');
    } catch (e) {
      return this.discard(object, name, (e as Error).message);
    }
    return file;
  }

  private async discard(object: StagedObject, name: string, why: string): Promise<undefined> {
    this.log.warn(`cache: the entry of ${object.url} is unreadable (${why}); parsing the object again`, {
      object: object.url,
      entry: path.join(this.folder, name),
    });
    for (const ext of ['json', 'parquet']) await unlink(path.join(this.folder, `${name}.${ext}`)).catch(() => {});
    return undefined;
  }

  /** Copies a just-made aggregate into the cache; a cache that cannot be written costs speed only (logged). */
  async store(object: StagedObject, name: string, made: string): Promise<void> {
    const tmp = (ext: string) => path.join(this.folder, `.${name}.${process.pid}.${ext}.tmp`);
    try {
      await mkdir(this.folder, { recursive: true });
      await copyFile(made, tmp('parquet'));
      const manifest: Manifest = {
        format: FORMAT,
        object: object.url,
        identity: object.identity!,
        sha256: sha256(await readFile(made)),
      };
      await writeFile(tmp('json'), JSON.stringify(manifest));
      // The Parquet first: a manifest is only ever beside the file it describes.
      await rename(tmp('parquet'), path.join(this.folder, `${name}.parquet`));
      await rename(tmp('json'), path.join(this.folder, `${name}.json`));
    } catch (e) {
      for (const ext of ['json', 'parquet']) await unlink(tmp(ext)).catch(() => {});
      this.log.warn(`cache: cannot keep the aggregate of ${object.url} in ${this.folder} (${(e as Error).message})`, {
        object: object.url,
      });
    }
  }

  /** Logs how many of a tier's objects came from the cache. */
  report(tier: string, hits: number, objects: number): void {
    this.log.info(`${tier}: ${hits} of ${objects} objects from cache`, { tier, fromCache: hits, objects });
  }
}

/**
 * Each staged object as its aggregate's Parquet file, from the cache or made now (and kept when the
 * object has an identity). `runs`: one statement runner per connection to use at once; `scratch`: this run's folder for made files.
 * `compare`: the landed tier's compared fields, hashed into the entry (their paths are in its query, so in its name).
 */
export async function objectAggregates(
  runs: ((sql: string) => Promise<void>)[],
  tier: 'proxy' | 'gcs',
  staged: StagedObject[],
  fields: RecordFields,
  cache: ObjectCache,
  scratch: string,
  compare?: CompareSql,
): Promise<StagedObject[]> {
  const { columns, expr, extraExpr } = buildRecordColumns(fields, `tiers.${tier}.fields`, compare?.paths);
  const query = (file: string) =>
    loadQuery('duckdb', 'object-aggregate', {
      ...expr,
      columns,
      tags: duckdbColumnTags(compare, extraExpr),
      hashes: duckdbHashesAgg(compare, 'tags'),
      path: sqlString(file),
      status_required: tier === 'proxy' ? 'true' : 'false',
      parse_lines: loadQuery('duckdb', 'parse-lines'),
    });
  // The query's text without the path: part of every entry's name, so that a changed parse misses.
  const shape = query('');
  await mkdir(scratch, { recursive: true });
  const out: StagedObject[] = new Array<StagedObject>(staged.length);
  let hits = 0;
  let next = 0;
  let failed = false;
  // Objects are independent: each connection takes the next one (a gzip object is read on one core).
  const worker = async (run: (sql: string) => Promise<void>) => {
    for (let i = next++; i < staged.length && !failed; i = next++) {
      const object = staged[i]!;
      const name = object.identity ? cache.entryName(object.identity, tier, fields, shape) : undefined;
      const hit = name ? await cache.lookup(object, name) : undefined;
      if (hit) {
        hits++;
        out[i] = { ...object, path: hit };
        continue;
      }
      const made = path.join(scratch, `aggregate-${tier}-${i}.parquet`);
      await run(`COPY (${query(object.path)}) TO ${sqlString(made)} (FORMAT parquet)`);
      if (name) await cache.store(object, name, made);
      out[i] = { ...object, path: made };
    }
  };
  // Every worker has stopped before this returns, so that no statement still runs on a connection after a failure.
  const settled = await Promise.allSettled(
    runs.map((run) =>
      worker(run).catch((e: unknown) => {
        failed = true;
        throw e;
      }),
    ),
  );
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  cache.report(tier, hits, staged.length);
  return out;
}
