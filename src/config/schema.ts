import { z } from 'zod';
import { isTimeZone } from '../dates.js';
import { ALL_SITES, UNKNOWN_SITE } from '../domain.js';
import { refineClusters } from './kafka-clusters.js';
import { unknownPlaceholders } from '../locations.js';
import { BQ_COLUMN, BQ_DATASET, BQ_PROJECT, BQ_TABLE, DATASET_FORM, TABLE_FORM } from '../bigquery/names.js';
import { memoryBytes, shown } from './values.js';
import { GCS_DOWNLOAD_CONCURRENCY } from '../limits.js';

/**
 * The config file's shape: every key, its default and its rule, as zod schemas. Validation only;
 * src/config.ts turns the validated document into a Config.
 */

/** A gs:// URL whose bucket is a valid bucket name, then nothing or a `/` and its prefix. */
const GS_BUCKET_URL = /^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/|$)/;
/** Anything with a URL scheme (`gs://`, `file://`, `s3://`, …), as opposed to a plain path. */
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Field paths: dotted, each segment a plain JSON key. Validated because they become SQL identifiers. */
const FIELD_PATH = /^[A-Za-z0-9_@$-]+(\.[A-Za-z0-9_@$-]+)*$/;
const fieldPath = z.string().regex(FIELD_PATH, 'a field path is dotted plain keys, e.g. "http.status"');

const recordFields = z.strictObject({
  timestamp: fieldPath.default('timestamp'),
  request_id: fieldPath.default('request_id'),
  site: fieldPath.default('site'),
  status: fieldPath.default('status'),
  region: fieldPath.default('region'),
});

const location = z
  .string()
  .min(1, 'a location may not be empty')
  .superRefine((value, ctx) => {
    const bad = unknownPlaceholders(value);
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `unknown placeholder {${bad[0]}}: use {date}, {yyyy}, {MM} or {dd}` });
    } else if (/[{}]/.test(value.replace(/\{(date|yyyy|MM|dd)\}/g, ''))) {
      // `dt={date/` read as a folder of that name, `{{date}}` as `{2025-03-09}`: no day's folder, found or not.
      ctx.addIssue({ code: 'custom', message: `a { or } outside a placeholder: use {date}, {yyyy}, {MM} or {dd}` });
    }
    if (/^gs:\/?(?!\/)/.test(value)) {
      ctx.addIssue({ code: 'custom', message: `"${shown(value)}" is no gs:// location: gs:// takes two slashes` });
    }
    if (URL_SCHEME.test(value) && !/^(gs|file):\/\//.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `unsupported scheme in "${shown(value)}": use gs://, file:/// or a relative path`,
      });
    }
    if (value.startsWith('gs://') && !GS_BUCKET_URL.test(value)) {
      ctx.addIssue({ code: 'custom', message: `"${shown(value)}" does not name a valid bucket (gs://bucket/prefix/)` });
    }
  });

const fileTier = z.strictObject({
  locations: z.array(location).min(1, 'at least one location'),
  fields: recordFields.default(recordFields.parse({})),
  /** How many later days' folders are read for records that landed late. */
  lateArrivalDays: z.number().int().min(0).max(31).default(1),
  /**
   * Days a writer's clock may run ahead of the event's time: 1 also reads the folder of the UTC date before a
   * day's first. A record cannot be written before it happened, so 0 (the default) reads no earlier folder.
   */
  clockSkewDays: z.number().int().min(0).max(1).default(0),
});

/**
 * An endpoint is no place for a secret: its URL is named in errors, and so in logs, the parity CSV's error
 * column, the HTML report, alerts and the history. Credentials come from Application Default Credentials.
 */
const CREDENTIALS_IN_URL =
  'no user, password or query (?key=, ?access_token=) in the URL: it is shown in errors and reports; ' +
  'credentials come from Application Default Credentials';

function noCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username === '' && u.password === '' && !/[?#]/.test(url);
  } catch {
    return true;
  }
}

const gcsTier = fileTier.extend({
  /** Google Cloud project for the storage client; credentials always come from ADC. */
  projectId: z.string().min(1).optional(),
  /**
   * A private endpoint or an emulator, e.g. http://127.0.0.1:4443: scheme, host and port, since the client adds
   * the API's path (`…/storage/v1` made every request 404, blamed on the bucket).
   */
  apiEndpoint: z
    .url()
    .refine(noCredentials, CREDENTIALS_IN_URL)
    .refine(
      (u) => /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i.test(u),
      'scheme, host and port only (no path), e.g. http://127.0.0.1:4443',
    )
    .optional(),
  /** Objects downloaded at once. */
  downloadConcurrency: z.number().int().min(1).max(256).default(GCS_DOWNLOAD_CONCURRENCY),
});

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'the name of an environment variable, e.g. KAFKA_EUS2_PASSWORD');

const kafkaCluster = z.strictObject({
  brokers: z
    .array(
      z
        .string()
        .regex(/^[^\s:/]+:\d{1,5}$/, 'a broker is host:port')
        .refine((b) => Number(b.slice(b.lastIndexOf(':') + 1)) <= 65535, 'a port is at most 65535'),
    )
    .min(1),
  /** The sink connector's consumer group: messages past its committed offsets are in flight. */
  sinkGroup: z.string().min(1).optional(),
  ssl: z.boolean().default(false),
  /** Credentials are read from the environment variables named here, never from the file. */
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      usernameEnv: envName,
      passwordEnv: envName,
    })
    .optional(),
});

const kafkaTier = z.strictObject({
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'),
  /** One cluster per region; the region names the kafka_<region> column. */
  clusters: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'a region name such as EUS2'), kafkaCluster)
    .refine((c) => Object.keys(c).length > 0, 'at least one cluster')
    .superRefine(refineClusters),
  siteHeader: z.string().min(1).default('wm-site-id'),
  requestId: z
    .discriminatedUnion('from', [
      z.strictObject({ from: z.literal('key') }),
      z.strictObject({ from: z.literal('header'), name: z.string().min(1) }),
      z.strictObject({ from: z.literal('value'), field: fieldPath }),
    ])
    .default({ from: 'key' }),
  connectionTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  readTimeoutMs: z.number().int().min(1000).max(3_600_000).default(600_000),
  /**
   * How far a message's timestamp may lie before one appended earlier in its partition (clocks of many
   * producers, a record stamped when sent and appended up to delivery.timeout.ms, 2 min, later): each
   * day's read ends no sooner than the first offset stamped this much after the day (and later where
   * messages of the day lie past it: src/tiers/kafka-stop.ts), and every message counts on the day of
   * its own timestamp.
   */
  outOfOrderMs: z.number().int().min(0).max(86_400_000).default(300_000),
});

/** BigQuery's identifier rules (src/bigquery/names.ts): names that pass become backquoted identifiers. */
const bqColumn = z.string().regex(BQ_COLUMN, 'a BigQuery column name');
/** A whole number of bytes, 1 to 2^63 - 1 (an INT64), as a number or as text: one rule for both ("0" passed). */
const bytes = z
  .union([z.string().regex(/^\d+$/, 'a whole number of bytes'), z.number().int()])
  .transform(String)
  .refine((v) => BigInt(v) >= 1n && BigInt(v) <= 2n ** 63n - 1n, 'a whole number of bytes from 1 to 2^63 - 1');

/** How a job reaches BigQuery: shared by every table the job reads. */
const bigqueryConnection = {
  /** The project that runs, and pays for, the queries; credentials always come from ADC. */
  projectId: z
    .string()
    .regex(BQ_PROJECT, 'a project id: 6 to 63 lower-case letters, digits and -, starting with a letter')
    .optional(),
  location: z.string().min(1).optional(),
  apiEndpoint: z.url().refine(noCredentials, CREDENTIALS_IN_URL).optional(),
};

/** A table tier's column names; `partition` is the DATE column every query filters on. */
const tableColumns = {
  timestamp: bqColumn.default('timestamp'),
  request_id: bqColumn.default('request_id'),
  site: bqColumn.default('site'),
  partition: bqColumn.default('dt'),
};

const bigqueryTier = z.strictObject({
  table: z.string().regex(BQ_TABLE, TABLE_FORM),
  columns: z.strictObject(tableColumns).prefault({}),
  ...bigqueryConnection,
  /** A query that would bill more than this many bytes fails instead of running. Default 10 GiB. */
  maximumBytesBilled: bytes.default('10737418240'),
  /** Partitions read beyond the UTC dates a day touches, for rows partitioned by arrival. */
  partitionMarginDays: z.number().int().min(0).max(31).default(1),
  /** Where each run's rows go for dashboards: a re-run of a day replaces that day's rows. */
  history: z.strictObject({ table: z.string().regex(BQ_TABLE, TABLE_FORM) }).optional(),
});

/** The proxy's access logs as a log sink exports them to BigQuery. Unset connection keys are tiers.bigquery's. */
const proxyBigquery = z.strictObject({
  table: z.string().regex(BQ_TABLE, TABLE_FORM),
  columns: z.strictObject({ ...tableColumns, status: bqColumn.default('status') }).prefault({}),
  ...bigqueryConnection,
  maximumBytesBilled: bytes.optional(),
  partitionMarginDays: z.number().int().min(0).max(31).default(1),
});

const site = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .pipe(
    z
      .string()
      .regex(/^[A-Z0-9_-]{1,32}$/, 'a site is a short code such as "US"')
      .refine((s) => s !== UNKNOWN_SITE && s !== ALL_SITES, 'UNKNOWN and ALL are reserved row names'),
  );

/**
 * An IANA zone name, checked against the runtime's zone database, and spelt as the database spells it:
 * Intl takes `america/chicago`, which other readers of the zone (BigQuery's DATE(ts, zone)) need not.
 * Only the case is set right; an alias (US/Central) stays as written.
 */
const zone = z
  .string()
  .refine(isTimeZone, { error: (iss) => `"${String(iss.input)}" is not an IANA time zone (e.g. "America/Chicago")` })
  .transform((name) => {
    const spelt = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    return spelt.toLowerCase() === name.toLowerCase() ? spelt : name;
  });

/**
 * A site: its code, or `{ code, timezone }` when its business day is cut in a zone of its own (a site
 * without one uses `timezone`). Both forms become the object, so a wrong key is named by its path.
 */
const siteEntry = z.union(
  [
    site.transform((code) => ({ code, timezone: undefined })),
    z.strictObject({ code: site, timezone: zone.optional() }),
  ],
  { error: 'a site is a code such as "US", or { code: "MX", timezone: "America/Mexico_City" }' },
);

/**
 * A compared field: dotted plain keys that are also JSONPath keys in both engines and BigQuery column names (no
 * `-`, `@`, `$`), since the path is read from Kafka's JSON value and from the final tier's record alike.
 */
const comparePath = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
    'a compared field is dotted plain keys (letters, digits, _), e.g. "body.amount"',
  );

export const schema = z.strictObject({
  timezone: zone.default('UTC'),
  sites: z
    .array(siteEntry)
    .min(1)
    .default([{ code: 'US' }, { code: 'CA' }, { code: 'MX' }])
    .refine((s) => new Set(s.map((x) => x.code)).size === s.length, 'a site is listed twice'),
  thresholds: z
    .strictObject({
      warnPct: z.number().min(0).max(100).default(99.9),
      failPct: z.number().min(0).max(100).default(99.0),
      landedNotAcceptedPct: z.number().min(0).max(100).default(0.5),
      volumeDropPct: z.number().min(0).max(100).default(50),
    })
    .default({ warnPct: 99.9, failPct: 99.0, landedNotAcceptedPct: 0.5, volumeDropPct: 50 })
    .refine((t) => t.failPct <= t.warnPct, { message: 'failPct must not be above warnPct', path: ['failPct'] }),
  tiers: z
    .strictObject({
      proxy: fileTier
        .extend({ locations: fileTier.shape.locations.optional(), bigquery: proxyBigquery.optional() })
        .superRefine((t, ctx) => {
          if ((t.locations === undefined) === (t.bigquery === undefined)) {
            ctx.addIssue({
              code: 'custom',
              path: ['locations'],
              message: 'set either locations (files) or bigquery (a table), not both nor neither',
            });
          }
        }),
      kafka: kafkaTier.optional(),
      gcs: gcsTier.optional(),
      bigquery: bigqueryTier.optional(),
    })
    .refine((t) => t.gcs !== undefined || t.bigquery !== undefined, {
      message: 'configure tiers.gcs or tiers.bigquery (a landed tier)',
      path: ['gcs'],
    }),
  jobs: z
    .strictObject({
      /** The daily job re-checks this many days before yesterday for records that landed late. */
      lateDays: z.number().int().min(0).max(31).default(3),
      /** Of this many days before those, it redoes each whose report is ERROR or missing (daily.ts catchUp). */
      catchUpDays: z.number().int().min(0).max(31).default(7),
    })
    .default({ lateDays: 3, catchUpDays: 7 }),
  alerts: z
    .strictObject({
      /** The environment variable that holds a Slack-compatible webhook URL: a URL with a token is a secret. */
      webhookUrlEnv: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'the name of an environment variable, e.g. PARITY_WEBHOOK_URL')
        .optional(),
      on: z
        .array(z.enum(['FAIL', 'NO_DATA', 'ERROR', 'WARN']))
        .min(1)
        .default(['FAIL', 'ERROR']),
    })
    .default({ on: ['FAIL', 'ERROR'] }),
  /** Record fields hashed in Kafka's value and in the final tier's record, per id in both (content_mismatch). */
  compare: z
    .array(comparePath)
    .max(32, 'at most 32 compared fields')
    .default([])
    .superRefine((paths, ctx) => {
      paths.forEach((p, i) => {
        if (paths.indexOf(p) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${p}" is listed twice` });
        const inside = paths.find((q) => p.startsWith(`${q}.`));
        if (inside !== undefined)
          ctx.addIssue({ code: 'custom', path: [i], message: `"${p}" lies inside "${inside}", also compared` });
      });
    }),
  reports: z
    .strictObject({
      /** Prefix text cells that a spreadsheet would run as a formula with `'` (OWASP); false writes raw values. */
      csvFormulaGuard: z.boolean().default(true),
    })
    .default({ csvFormulaGuard: true }),
  engine: z
    .preprocess(
      // `engine: bigquery` is short for `engine: { kind: bigquery }`.
      (v) => (typeof v === 'string' ? { kind: v } : v),
      z.strictObject({
        /**
         * embedded: DuckDB in the pod; bigquery: the request-id work runs in BigQuery, so the pod's
         * memory does not grow with the day.
         */
        kind: z.enum(['embedded', 'bigquery']).default('embedded'),
        /** bigquery engine: the dataset (project.dataset) for its scratch tables; default the history table's. */
        dataset: z.string().regex(BQ_DATASET, DATASET_FORM).optional(),
        /**
         * DuckDB's memory limit; above it, work spills to tempDirectory. Unset: half the container's
         * memory limit, else 512MiB (src/engine/memory.ts).
         */
        memoryLimit: z
          .string()
          .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i)
          .refine((v) => Number.parseFloat(v) > 0, 'a memory limit of zero leaves the engine nothing to count with')
          // 100KB passed, and the run read every tier before it ended exit 6
          .refine(
            (v) => memoryBytes(v) >= 8 * 1024 * 1024,
            "below 8MiB the engine cannot run its queries at all (unset, it takes half the container's memory)",
          )
          .optional(),
        threads: z.number().int().min(1).max(256).optional(),
        tempDirectory: z.string().min(1).optional(),
        /**
         * Days counted in one pass: more days share folder reads, fewer bound the work per pass. Default:
         * 2 for the embedded engine (of 1, 2, 3, 4 and 7, the fastest on a range of 1,000,000-event days:
         * a longer batch's joins spill), 7 for bigquery (each pass is jobs with a fixed latency).
         */
        batchDays: z.number().int().min(1).max(62).optional(),
      }),
    )
    .default({ kind: 'embedded' })
    .transform((e) => ({ ...e, batchDays: e.batchDays ?? (e.kind === 'bigquery' ? 7 : 2) })),
  /**
   * Each file object's parsed aggregate, kept by the object's identity so that later runs (daily's re-checks, a
   * backfill's neighbour folders) do not parse it again. A local folder (relative: from the config's folder) or a
   * gs://bucket/prefix/.
   */
  cache: z
    .strictObject({
      location: z
        .string()
        .min(1)
        .refine(
          // gs:/x, GS://x or s3://x is no folder: taken as one, the cache would live in a folder named gs:
          (v) => (v.startsWith('gs://') ? GS_BUCKET_URL.test(v) : !/^[a-z][a-z0-9+.-]*:\//i.test(v)),
          'a local folder or gs://bucket/prefix/',
        ),
    })
    .optional(),
});

export type RawConfig = z.infer<typeof schema>;
export type KafkaTierConfig = z.infer<typeof kafkaTier>;
export type BigqueryTierConfig = z.infer<typeof bigqueryTier>;

/** The proxy's BigQuery table, with the connection keys filled in from tiers.bigquery where unset. */
export type ProxyBigqueryConfig = Omit<z.infer<typeof proxyBigquery>, 'maximumBytesBilled'> & {
  maximumBytesBilled: string;
};
export type RecordFields = z.infer<typeof recordFields>;
/** A file tier (proxy or GCS) as validated, before its locations are parsed. */
export type FileTierConfig = z.infer<typeof fileTier>;
