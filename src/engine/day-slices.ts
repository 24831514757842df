import { createHash } from 'node:crypto';
import path from 'node:path';
import { addDays, DAY_BUCKET_MS, dayOf } from '../dates.js';
import type { DayKey, StagedObject } from '../domain.js';
import { loadQuery } from '../queries.js';
import type { DayLookup } from './day-lookup.js';
import {
  aggregatesSql,
  duckdbPath,
  emptyTable,
  type LoadSpec,
  loadStatement,
  sqlString,
  type Statement,
} from './load-sql.js';
import type { ObjectCache } from './object-cache.js';

/**
 * A report day's rows of a file tier's table (load-cached.sql's output, `WHERE day = D`), kept in the
 * per-object cache under a name made of everything they depend on: the tier, the day, its zones, the
 * sites, the late days, the parse and merge query texts, and the identity of every object in the folders
 * that can hold a row of that day. So a day whose objects are all unchanged is merged once: daily's
 * re-checks read its rows back instead of aggregating its objects' aggregates again. A new, changed or
 * deleted object changes the name, so the day is made again; an entry that does not read back whole is
 * deleted and rebuilt, never trusted (ObjectCache). Only with every object dated and identified: an
 * undated object can hold any day, an unidentified one cannot be named.
 */
const FORMAT = 1;
const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');

/**
 * The folder dates that can hold a row of `day`: a record's folder lies from `clockSkewDays` before its
 * own UTC date to `lateDays` after it (load-cached.sql's window), and a record of `day` has a UTC date some
 * zone's `day` overlaps; a malformed or out-of-window line counts on its folder's date. Null when no
 * bucket of the lookup is `day`'s. Pure.
 */
export function foldersOfDay(
  lookup: DayLookup,
  day: DayKey,
  reach: Pick<LoadSpec, 'lateDays' | 'clockSkewDays'>,
): { from: DayKey; to: DayKey } | null {
  const spans = bucketsOfDay(lookup, day).filter(Boolean);
  if (spans.length === 0) return null;
  const utcDay = (bucket: number) => dayOf(bucket * DAY_BUCKET_MS, 'UTC');
  const first = Math.min(...spans.map(([b]) => b));
  const last = Math.max(...spans.map(([, b]) => b));
  return { from: addDays(utcDay(first), -reach.clockSkewDays), to: addDays(utcDay(last), reach.lateDays) };
}

/** The 15-minute buckets (epoch ms ÷ 900000) of `day` in each zone of the lookup, as [first, last] per zone. Pure. */
function bucketsOfDay(lookup: DayLookup, day: DayKey): [number, number][] {
  const spans: [number, number][] = [];
  lookup.days.forEach((d, k) => {
    if (d !== day) return;
    const zone = Math.floor(k / lookup.bucketCount);
    const bucket = lookup.firstBucket + (k % lookup.bucketCount);
    const span = (spans[zone] ??= [bucket, bucket]);
    span[1] = bucket;
  });
  return spans;
}

/** Each report day of the lookup: its slice's name, or null when it cannot have one. Pure. */
export function sliceNames(
  spec: Pick<LoadSpec, 'tier' | 'sites' | 'lateDays' | 'clockSkewDays' | 'lookup' | 'compare'>,
  days: readonly DayKey[],
  objects: readonly Pick<StagedObject, 'folderDay' | 'identity'>[],
  /** The text of everything that shapes an object's aggregate (the per-object cache's own key part). */
  objectShape: string,
): Map<DayKey, string | null> {
  const names = new Map<DayKey, string | null>();
  const usable = objects.every((o) => o.folderDay !== null && o.identity !== undefined);
  const merge = loadQuery('duckdb', 'load-cached', { table: '', sources: '', aggregates: aggregatesSql(spec, true) });
  for (const day of days) {
    const folders = foldersOfDay(spec.lookup, day, spec);
    if (!usable || !folders) {
      names.set(day, null);
      continue;
    }
    // Each object with the folder date it is read under: the same object listed under another date (a
    // link, or two locations) counts as late or out of window differently.
    const objectsIn = objects
      .filter((o) => o.folderDay! >= folders.from && o.folderDay! <= folders.to)
      .map((o) => `${o.folderDay!} ${o.identity!}`)
      .sort();
    // The day's instants as this runtime's zone rules cut them (a time-zone data update may move them).
    const instants = bucketsOfDay(spec.lookup, day);
    const reach = [spec.lateDays, spec.clockSkewDays];
    const key = [FORMAT, spec.tier, day, spec.lookup.zoning, instants, spec.sites, reach, sha256(objectShape)];
    names.set(day, `day-${sha256(JSON.stringify([...key, sha256(merge), objectsIn]))}`);
  }
  return names;
}

/** What loadWithSlices needs of the engine: its statement runner and its scratch folder. */
export interface SliceRunner {
  run(statement: Statement | string): Promise<void>;
  scratch: string;
}

/**
 * A file tier's table from the cache: each report day's slice where the cache has it, the other days
 * merged from their objects' aggregates (`aggregate` turns staged objects into those: objectAggregates),
 * then kept as slices once every object they came from proved whole. Only the objects of the folders the
 * made days need are aggregated. Without any slice this is load-cached.sql over every object, as before.
 */
export async function loadWithSlices(
  engine: SliceRunner,
  spec: LoadSpec,
  staged: readonly StagedObject[],
  cache: ObjectCache,
  objectShape: string,
  /** Turns objects into their aggregates; `skipped`: how many of the tier's, all entries already, it is not given. */
  aggregate: (objects: StagedObject[], skipped: number) => Promise<StagedObject[]>,
): Promise<void> {
  const days = [...new Set(spec.lookup.days.filter((d): d is DayKey => d !== null))].sort();
  const names = sliceNames(spec, days, staged, objectShape);
  const hits = new Map<DayKey, string>();
  for (const [day, name] of names) {
    const file = name
      ? await cache.lookup({ url: `the ${spec.tier} rows of ${day}`, identity: name }, name)
      : undefined;
    if (file) hits.set(day, file);
  }
  const made = days.filter((d) => !hits.has(d));
  cache.reportDays(spec.tier, hits.size, days.length);
  // The made days need only their own folders' objects; an undated object may hold any day.
  const ranges = made.map((d) => foldersOfDay(spec.lookup, d, spec));
  const isNeeded = (o: StagedObject) =>
    o.folderDay === null || ranges.some((r) => r === null || (o.folderDay! >= r.from && o.folderDay! <= r.to));
  // An object without its entry yet (new, or its entry was damaged) is aggregated and kept even when only
  // slices need it now: every object is parsed once, and a damaged entry is rebuilt, not left missing.
  const given = staged.filter((o) => isNeeded(o) || !o.aggregate);
  const aggregated = await aggregate(given, staged.length - given.length);
  const objects = aggregated.filter((o, i) => isNeeded(given[i]!));
  const readable = (file: string) => sqlString(duckdbPath(file));
  if (made.length > 0 && objects.length > 0) {
    // The hit days' records fall on no report day here (so are dropped before the merge), their lines are skipped.
    const lookup = { ...spec.lookup, days: spec.lookup.days.map((d) => (d !== null && hits.has(d) ? null : d)) };
    await engine.run(loadStatement({ ...spec, lookup }, objects, true, [...hits.keys()]));
  } else {
    await engine.run(emptyTable(spec.table));
  }
  if (hits.size > 0)
    await engine.run(
      `INSERT INTO ${spec.table} BY NAME SELECT * FROM read_parquet([${[...hits.values()].map(readable).join(', ')}], hive_partitioning = false)`,
    );
  // Kept only when every object it came from proved whole (a gzip cut short is never part of a slice).
  const whole = await Promise.all(objects.map((o) => o.checked ?? Promise.resolve(true)));
  if (whole.includes(false)) return;
  for (const day of made) {
    const name = names.get(day);
    if (!name) continue;
    // A day key is a validated YYYY-MM-DD (it names a file and sits in the COPY, which takes no parameters).
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
    const file = path.join(engine.scratch, `slice-${spec.tier}-${day}.parquet`);
    await engine.run(
      `COPY (SELECT * FROM ${spec.table} WHERE day = DATE '${day}') TO ${sqlString(file)} (FORMAT parquet)`,
    );
    await cache.store({ url: `the ${spec.tier} rows of ${day}`, identity: name }, name, file);
  }
}
