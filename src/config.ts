import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ConfigError } from './errors.js';
import { isDated, listsFolder, type ParsedLocation } from './locations.js';
import { GCS_DOWNLOAD_CONCURRENCY } from './limits.js';
import { configErrorOfIssues } from './config/issues.js';
import { shown } from './config/values.js';
import { checkComparePaths, checkFieldCases } from './config/compare-paths.js';
import { checkHistoryTable } from './config/history-table.js';
import {
  type BigqueryTierConfig,
  type FileTierConfig,
  type KafkaTierConfig,
  type ProxyBigqueryConfig,
  type RawConfig,
  type RecordFields,
  schema,
} from './config/schema.js';

export type {
  BigqueryTierConfig,
  KafkaTierConfig,
  ProxyBigqueryConfig,
  RawConfig,
  RecordFields,
} from './config/schema.js';
export { formatPath } from './config/issues.js';

/*
 * The config's public entry: parseConfig (pure) turns a validated document into a Config, loadConfig
 * reads the file. The schema lives in config/schema.ts, the wording of its failures in config/issues.ts.
 */

export interface TierLocations {
  locations: ParsedLocation[];
  /** As written in the config, for messages. */
  raw: string[];
  fields: RecordFields;
  lateArrivalDays: number;
  /** 1: the folder of the UTC date before a day's first is read too (a writer's clock ahead); 0: not. */
  clockSkewDays: number;
}

export interface GcsOptions {
  projectId?: string;
  apiEndpoint?: string;
  downloadConcurrency: number;
}

export interface Config {
  timezone: string;
  /** The site codes, in report order. */
  sites: string[];
  /**
   * The sites whose business day is cut in a zone of their own (`sites: [{ code, timezone }]`); absent when
   * none is, so a config in the plain form resolves (and hashes) as before. Read through zoneOfSite.
   */
  siteZones?: Record<string, string>;
  /**
   * landedNotAcceptedPct: % of accepted ids landing unaccepted above which a row WARNs;
   * volumeDropPct: the volume guard's share (0: off).
   */
  thresholds: { warnPct: number; failPct: number; landedNotAcceptedPct: number; volumeDropPct: number };
  tiers: {
    /** Exactly one of proxy (files) and proxyBigquery (a table). */
    proxy?: TierLocations;
    proxyBigquery?: ProxyBigqueryConfig;
    gcs?: TierLocations;
    kafka?: KafkaTierConfig;
    bigquery?: BigqueryTierConfig;
  };
  gcs: GcsOptions;
  engine: Omit<RawConfig['engine'], 'dataset'> & { dataset?: string };
  jobs: RawConfig['jobs'];
  alerts: RawConfig['alerts'];
  reports: RawConfig['reports'];
  /**
   * Record fields (dotted paths) compared between Kafka's value and the final tier's record; absent when none is,
   * so a config without `compare` resolves (and hashes) as before.
   */
  compare?: string[];
  /** The per-object cache's folder (absolute) or gs:// prefix; unset: every object is parsed every run. */
  cache?: { location: ParsedLocation };
}

/**
 * A file:// URL's path, placeholders kept; a URL that names no local path (a host, as in `file://landed/…`
 * for `file:///landed/…`, an encoded slash, a broken %-escape) is a config error naming its key path.
 */
function localPathOf(url: string, keyPath = 'location'): string {
  // A URL's # or ? ends its path: the folder named would be cut short there, without a word.
  if (/[#?]/.test(url))
    throw new ConfigError(
      keyPath,
      `"${shown(url)}": a # or ? in a file:// URL ends its path there; write it %23 or %3F, or give a plain path`,
    );
  try {
    return fileURLToPath(url.replace(/\{/g, '%7B').replace(/\}/g, '%7D'));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ConfigError(keyPath, `"${shown(url)}" is not a local file URL (file:///absolute/path/): ${why}`);
  }
}

/**
 * Turns a location string into a template; relative paths are taken from `baseDir`. Pure. `keyPath` (where the
 * location is in the config) is carried for the messages about it.
 */
export function parseLocation(value: string, baseDir: string, keyPath?: string): ParsedLocation {
  const where = keyPath === undefined ? {} : { keyPath };
  if (value.startsWith('gs://')) {
    const rest = value.slice('gs://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    return { scheme: 'gs', bucket, template: prefix, dated: isDated(prefix), ...where };
  }
  // Neither is a folder below the config's, which is what a relative path would make of them.
  if (/^~[/\\]?/.test(value) || (/^file:/i.test(value) && !value.startsWith('file://')))
    throw new ConfigError(
      keyPath ?? 'location',
      `"${shown(value)}": write an absolute path, a path relative to the config file, or file:///absolute/path/ ` +
        '(~ is not expanded, and file: needs three slashes)',
    );
  const local = value.startsWith('file://') ? localPathOf(value, keyPath) : path.resolve(baseDir, value);
  return { scheme: 'file', bucket: '', template: local, dated: isDated(local), ...where };
}

/**
 * Validates a parsed config document. Pure: `baseDir` is where relative locations start.
 * Throws ConfigError naming the first wrong key path.
 */
export function parseConfig(input: unknown, baseDir: string): Config {
  const result = schema.safeParse(input);
  if (!result.success) throw configErrorOfIssues(result.error.issues, input);
  const raw = result.data;
  if (raw.tiers.proxy.bigquery) refuseFileKeys(input);
  const tier = (t: FileTierConfig, name: 'proxy' | 'gcs'): TierLocations => ({
    locations: t.locations.map((l, i) => parseLocation(l, baseDir, `tiers.${name}.locations[${i}]`)),
    raw: t.locations,
    fields: t.fields,
    lateArrivalDays: t.lateArrivalDays,
    clockSkewDays: t.clockSkewDays,
  });
  const { gcs, bigquery, kafka } = raw.tiers;
  checkComparePaths(raw.compare, gcs?.fields);
  checkFieldCases(raw.tiers.proxy.fields, 'tiers.proxy.fields');
  checkFieldCases(gcs?.fields, 'tiers.gcs.fields', raw.compare);
  const proxy = raw.tiers.proxy;
  const proxyBigqueryConfig: ProxyBigqueryConfig | undefined = proxy.bigquery
    ? {
        ...proxy.bigquery,
        ...inherit(proxy.bigquery, bigquery, 'projectId'),
        ...inherit(proxy.bigquery, bigquery, 'location'),
        ...inherit(proxy.bigquery, bigquery, 'apiEndpoint'),
        maximumBytesBilled: proxy.bigquery.maximumBytesBilled ?? bigquery?.maximumBytesBilled ?? '10737418240',
      }
    : undefined;
  checkHistoryTable(bigquery?.history?.table, [
    { key: 'tiers.bigquery.table', table: bigquery?.table },
    { key: 'tiers.proxy.bigquery.table', table: proxy.bigquery?.table },
  ]);
  const engine = { ...raw.engine } as Config['engine'];
  // Relative to the config's folder, as every other path in it (it was the working directory's: the CronJob's is
  // the image's WORKDIR, not the ConfigMap's mount).
  if (engine.tempDirectory !== undefined) engine.tempDirectory = path.resolve(baseDir, engine.tempDirectory);
  if (engine.kind === 'bigquery') {
    if (!proxyBigqueryConfig)
      throw new ConfigError(
        'tiers.proxy.bigquery',
        'engine bigquery reads the proxy from a BigQuery table: set tiers.proxy.bigquery (table and columns) ' +
          'instead of tiers.proxy.locations',
      );
    if (!bigquery)
      throw new ConfigError(
        'tiers.bigquery',
        'engine bigquery reconciles against a BigQuery table: set tiers.bigquery ' +
          '(a native table, or an external table over the landed GCS prefixes)',
      );
    if (gcs)
      throw new ConfigError(
        'tiers.gcs',
        'engine bigquery does not read files: define an external table over these GCS prefixes ' +
          'and name it in tiers.bigquery.table, or use engine embedded',
      );
    const dataset = engine.dataset ?? bigquery.history?.table.split('.').slice(0, 2).join('.');
    if (!dataset)
      throw new ConfigError(
        'engine.dataset',
        'engine bigquery needs a dataset (project.dataset) for its scratch tables, ' +
          'in the same location as the tables it reads',
      );
    engine.dataset = dataset;
  }
  const proxyFiles = proxy.locations ? tier({ ...proxy, locations: proxy.locations }, 'proxy') : undefined;
  const gcsFiles = gcs ? tier(gcs, 'gcs') : undefined;
  return {
    timezone: raw.timezone,
    sites: raw.sites.map((s) => s.code),
    ...siteZonesOf(raw.sites),
    thresholds: raw.thresholds,
    tiers: {
      ...(proxyFiles ? { proxy: proxyFiles } : {}),
      ...(proxyBigqueryConfig ? { proxyBigquery: proxyBigqueryConfig } : {}),
      ...(gcsFiles ? { gcs: gcsFiles } : {}),
      ...(kafka ? { kafka } : {}),
      ...(bigquery ? { bigquery } : {}),
    },
    gcs: {
      ...(gcs?.projectId ? { projectId: gcs.projectId } : {}),
      ...(gcs?.apiEndpoint ? { apiEndpoint: gcs.apiEndpoint } : {}),
      downloadConcurrency: gcs?.downloadConcurrency ?? GCS_DOWNLOAD_CONCURRENCY,
    },
    engine,
    jobs: raw.jobs,
    alerts: raw.alerts,
    reports: raw.reports,
    ...(raw.compare.length > 0 ? { compare: raw.compare } : {}),
    ...(raw.cache ? { cache: { location: cacheLocation(raw.cache.location, baseDir, [proxyFiles, gcsFiles]) } } : {}),
  };
}

/**
 * cache.location, refused where a file tier would list it: the tier would read the cache's own manifests
 * (`.json`) as records, counting more malformed lines each run (before 0.3.7 it did).
 */
function cacheLocation(value: string, baseDir: string, tiers: readonly (TierLocations | undefined)[]): ParsedLocation {
  const cache = parseLocation(value, baseDir, 'cache.location');
  for (const t of tiers)
    t?.locations.forEach((l, i) => {
      if (listsFolder(l, cache))
        throw new ConfigError(
          'cache.location',
          `"${shown(value)}" is inside ${l.keyPath} ("${shown(t.raw[i]!)}"): the tier would read the ` +
            "cache's own files as records; choose a folder outside every location",
        );
    });
  return cache;
}

/**
 * A proxy read from a table takes none of the file tier's keys: they were accepted and ignored (`fields` beside
 * `bigquery` queried the default column names, and failed as exit 3 naming none of them). Read from the document
 * as given, since `fields` has a default.
 */
function refuseFileKeys(input: unknown): void {
  const proxy = (input as { tiers?: { proxy?: Record<string, unknown> } }).tiers?.proxy ?? {};
  const why: Record<string, string> = {
    fields: "a proxy table's columns are named in tiers.proxy.bigquery.columns",
    lateArrivalDays: 'a proxy table is read by partition: tiers.proxy.bigquery.partitionMarginDays',
    clockSkewDays: 'a proxy table is read by partition: tiers.proxy.bigquery.partitionMarginDays',
  };
  const key = Object.keys(why).find((k) => k in proxy);
  if (key)
    throw new ConfigError(`tiers.proxy.${key}`, `not a key of a proxy read from a table (bigquery): ${why[key]}`);
}

/** The sites that name a zone of their own, or nothing when none does. */
function siteZonesOf(sites: RawConfig['sites']): Pick<Config, 'siteZones'> {
  const own = sites.flatMap((s) => (s.timezone === undefined ? [] : [[s.code, s.timezone] as const]));
  return own.length === 0 ? {} : { siteZones: Object.fromEntries(own) };
}

/** `key` of the proxy's table, or else tiers.bigquery's: one connection serves both tables. */
function inherit<K extends 'projectId' | 'location' | 'apiEndpoint'>(
  own: Partial<Record<K, string>>,
  shared: Partial<Record<K, string>> | undefined,
  key: K,
): Partial<Record<K, string>> {
  const value = own[key] ?? shared?.[key];
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, string>>);
}

/**
 * A YAML text as data. What the reader only warns of (an unknown tag such as `!foo`, read as a plain
 * string) is refused like an error: a config is either meant or wrong, and the warning went to stderr as
 * lines of text among the job's JSON ones.
 */
function yamlDocument(text: string): unknown {
  // merge: YAML's `<<: *anchor` (a Kubernetes habit) merges the anchored map, rather than reading as a key `<<`.
  const doc = YAML.parseDocument(text, { prettyErrors: true, merge: true });
  const fault = doc.errors[0] ?? doc.warnings[0];
  if (fault) throw fault;
  return doc.toJS();
}

/** Reads a JSON or YAML config file and validates it. */
export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError('--config', `cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let doc: unknown;
  // A byte-order mark is no part of the document (YAML's reader drops it, JSON.parse refused it).
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  try {
    doc = /\.json$/i.test(file) ? JSON.parse(text) : yamlDocument(text);
    // JSON.parse keeps the last of a key given twice, silently; YAML's reader refuses it, and JSON is YAML.
    if (/\.json$/i.test(file)) YAML.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError(
      '--config',
      `"${file}" is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${syntaxError((e as Error).message, text)}`,
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError('--config', `"${file}" must hold an object of config keys`);
  }
  return parseConfig(doc, path.dirname(path.resolve(file)));
}

/**
 * A reader's syntax error as one line that says where: the reader's first line (the lines after it quote the file,
 * which a log line has no room for), JSON's character position as a line and column as YAML's are. Where JSON.parse
 * names no position ("Unexpected token 'x', …"), its cut-short quote of the file is dropped and the token's place is
 * found by JSON.parse itself (unexpectedAt).
 */
function syntaxError(message: string, text: string): string {
  const first = message.split('\n')[0]!.replace(/:$/, '');
  const where = (position: number) => {
    const before = text.slice(0, position);
    return `at line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')}`;
  };
  const at = / (in|after) JSON at position (\d+)(?: \(line \d+ column \d+\))?/.exec(first);
  if (at) return `${first.slice(0, at.index)} ${where(Number(at[2]))}`;
  const token = /^(Unexpected token '.+?'), /su.exec(message);
  if (!token) return first;
  const position = unexpectedAt(text);
  return position === undefined ? `${token[1]} (no position given)` : `${token[1]} ${where(position)}`;
}

/**
 * Where JSON.parse meets an unexpected token in `text`, which it refuses without saying where. Every prefix of
 * `text` that ends before that token is a valid beginning of JSON, so JSON.parse refuses it for ending too soon
 * (at or past its end); every longer prefix holds the token, which it refuses first, before its end. So the
 * shortest prefix refused before its end ends just past the token: found by halving, about 20 parses.
 */
function unexpectedAt(text: string): number | undefined {
  const refusedBeforeEnd = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (e) {
      const message = (e as Error).message;
      if (/end of JSON input|Unterminated string/.test(message)) return false;
      const at = /at position (\d+)/.exec(message);
      return at ? Number(at[1]) < length : true;
    }
  };
  if (!refusedBeforeEnd(text.length)) return undefined;
  let [low, high] = [0, text.length];
  while (high - low > 1) {
    const mid = (low + high) >>> 1;
    if (refusedBeforeEnd(mid)) high = mid;
    else low = mid;
  }
  return high - 1;
}
