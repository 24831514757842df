import YAML from 'yaml';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, parseConfig } from '../../src/config.js';
import { buildRecordColumns } from '../../src/engine/record-columns.js';
import { ConfigError } from '../../src/errors.js';
import { BASE_CONFIG, configErrorOf } from '../support/config-doc.js';
import { tempDir } from '../support/files.js';
import { zoneOfSite, zonesOf } from '../../src/site-zones.js';

const base = BASE_CONFIG;
const errorOf = configErrorOf;

describe('config', () => {
  it('fills the contract defaults and resolves relative locations from the config folder', () => {
    const c = parseConfig(base, '/base');
    expect(c.timezone).toBe('UTC');
    expect(c.sites).toEqual(['US', 'CA', 'MX']);
    expect(c.thresholds).toEqual({ warnPct: 99.9, failPct: 99.0, landedNotAcceptedPct: 0.5, volumeDropPct: 50 });
    expect(c.tiers.proxy!.locations[0]).toEqual({
      scheme: 'file',
      bucket: '',
      template: '/base/proxy/dt={date}',
      dated: true,
      keyPath: 'tiers.proxy.locations[0]',
    });
    expect(c.tiers.gcs!.locations[0]).toEqual({
      scheme: 'gs',
      bucket: 'audit-api-logs-us-prod',
      template: 'dt={date}/',
      dated: true,
      keyPath: 'tiers.gcs.locations[0]',
    });
  });

  it('takes file:/// URLs with placeholders', () => {
    const c = parseConfig(
      { tiers: { proxy: { locations: ['file:///data/proxy/dt={yyyy}-{MM}-{dd}/'] }, gcs: { locations: ['x'] } } },
      '/base',
    );
    expect(c.tiers.proxy!.locations[0]!.template).toBe('/data/proxy/dt={yyyy}-{MM}-{dd}/');
  });

  it.each(['~/data/dt={date}/', '~', 'file:/data/dt={date}/', 'FILE:data/'])(
    'a location %j, which a relative path would put below the config folder, is a config error',
    (value) => {
      const e = errorOf({ tiers: { proxy: { locations: [value] }, gcs: { locations: ['x'] } } });
      expect(e.message).toMatch(/^tiers\.proxy\.locations\[0\]: .*~ is not expanded, and file: needs three slashes/);
    },
  );

  // A misspelt or misplaced key also leaves the key it stands for missing: the message names the key written.
  it.each([
    [
      'a singular location',
      { tiers: { proxy: base.tiers.proxy, gcs: { location: ['x'] } } },
      'tiers.gcs.location: unknown key',
    ],
    ['tiers misspelt', { tires: base.tiers }, 'tires: unknown key'],
    ['a tier at the top level', { proxy: base.tiers.proxy, tiers: { gcs: base.tiers.gcs } }, 'proxy: unknown key'],
    [
      'cluster for clusters',
      { tiers: { ...base.tiers, kafka: { topic: 't', cluster: { EUS2: { brokers: ['h:9092'] } } } } },
      'tiers.kafka.cluster: unknown key',
    ],
  ])('%s is named, not the key it leaves missing', (_, doc, message) => {
    expect(errorOf(doc).message).toBe(message);
  });

  it('a secret in the file is refused as a secret, before the *Env keys it leaves missing', () => {
    const sasl = { mechanism: 'plain', username: 'u', password: 'p' };
    const kafka = { topic: 't', clusters: { EUS2: { brokers: ['h:9092'], sasl } } };
    expect(errorOf({ ...base, tiers: { ...base.tiers, kafka } }).message).toBe(
      'tiers.kafka.clusters.EUS2.sasl.password: unknown key: secrets come from the environment or Application ' +
        'Default Credentials, never from the config file',
    );
    for (const key of ['passwd', 'auth', 'authorization', 'serviceAccountJson', 'privateKey', 'bearerToken'])
      expect(errorOf({ ...base, tiers: { ...base.tiers, gcs: { ...base.tiers.gcs, [key]: 'x' } } }).message).toMatch(
        new RegExp(`^tiers\\.gcs\\.${key}: unknown key: secrets come from the environment`),
      );
    // A secret below an unknown key is named where it is, as a secret.
    expect(
      errorOf({ ...base, tiers: { ...base.tiers, gcs: { ...base.tiers.gcs, extra: { sa: { private_key: 'k' } } } } })
        .message,
    ).toMatch(/^tiers\.gcs\.extra\.sa\.private_key: unknown key: secrets come from the environment/);
    // A mistyped *Env key names a variable, and author is no auth: plainly unknown.
    for (const key of ['passwordENV', 'author'])
      expect(errorOf({ ...base, tiers: { ...base.tiers, gcs: { ...base.tiers.gcs, [key]: 'x' } } }).message).toBe(
        `tiers.gcs.${key}: unknown key`,
      );
    // A key the file does not have at all reads as missing, not as zod's "received undefined".
    expect(errorOf({ tiers: { proxy: base.tiers.proxy, gcs: {} } }).message).toBe(
      'tiers.gcs.locations: missing: expected array',
    );
  });

  it('a location refused is quoted without its user, password or query: they may hold a secret', () => {
    for (const [value, shown] of [
      ['gs://user:s3cr3t@bucket/x/', 'gs://***@bucket/x/'],
      ['https://storage.googleapis.com/b/x?access_token=ya29.s3cr3t', 'https://storage.googleapis.com/b/x?***'],
      ['gs:/b/x?sig=s3cr3t', 'gs:/b/x?***'],
      ['gs:/svc:s3cr3t@b/x/', 'gs:/***@b/x/'],
      ['https://h/b/x#s3cr3t', 'https://h/b/x#***'],
      ['gs://svc:p@s3cr3t@bucket/x/', 'gs://***@bucket/x/'],
      ['file://svc:s3cr3t@host/data/', 'file://***@host/data/'],
      ['file:/svc:s3cr3t@x/data/', 'file:/***@x/data/'],
    ]) {
      const e = errorOf({ ...base, tiers: { proxy: base.tiers.proxy, gcs: { locations: [value] } } });
      expect(e.message).toMatch(/^tiers\.gcs\.locations\[0\]: /);
      expect(e.message).toContain(`"${shown}"`);
      expect(e.message).not.toContain('s3cr3t');
    }
  });

  it('a memoryLimit of zero is a config error naming its key', () => {
    expect(errorOf({ ...base, engine: { memoryLimit: '0MiB' } }).message).toMatch(/^engine\.memoryLimit: /);
    expect(parseConfig({ ...base, engine: { memoryLimit: '0.5GiB' } }, '/b').engine.memoryLimit).toBe('0.5GiB');
    // One no query can run in is refused before anything is read, not exit 6 once every tier was read.
    for (const tiny of ['100KB', '0.0001KB', '7MiB', '8MB'])
      expect(errorOf({ ...base, engine: { memoryLimit: tiny } }).message).toMatch(/^engine\.memoryLimit: below 8MiB/);
    expect(parseConfig({ ...base, engine: { memoryLimit: '8MiB' } }, '/b').engine.memoryLimit).toBe('8MiB');
  });

  it("a relative engine.tempDirectory is the config folder's, as every path in the config", () => {
    expect(parseConfig({ ...base, engine: { tempDirectory: 'scratch' } }, '/base').engine.tempDirectory).toBe(
      '/base/scratch',
    );
    expect(parseConfig({ ...base, engine: { tempDirectory: '/tmp/x' } }, '/base').engine.tempDirectory).toBe('/tmp/x');
  });

  it('a # or ? in a file:// location is refused: the path ended there, and named a folder the config never did', () => {
    for (const url of ['file:///data/p#1/dt={date}/', 'file:///data/p?1/dt={date}/']) {
      const e = errorOf({ ...base, tiers: { proxy: { locations: [url] }, gcs: base.tiers.gcs } });
      expect(e.message).toMatch(
        /^tiers\.proxy\.locations\[0\]: ".*": a # or \? in a file:\/\/ URL ends its path there/,
      );
    }
    expect(
      parseConfig(
        { ...base, tiers: { proxy: { locations: ['file:///data/p%231/dt={date}/'] }, gcs: base.tiers.gcs } },
        '/b',
      ).tiers.proxy!.locations[0]!.template,
    ).toBe('/data/p#1/dt={date}/');
  });

  it.each([
    ['a host (two slashes for three)', 'file://landed/dt={date}/', /host/],
    ['a broken %-escape', 'file:///tmp/%ZZ/{date}/', /URI malformed/],
    ['an encoded slash', 'file:///tmp/a%2Fb/{date}/', /encoded/],
  ])('a file URL with %s is a config error naming its key path, not a crash', (_what, url, why) => {
    const e = errorOf({ tiers: { proxy: { locations: ['x'] }, gcs: { locations: [url] } } });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(
      new RegExp(`^tiers\\.gcs\\.locations\\[0\\]: "${url.replace(/[{}]/g, '\\$&')}" is not a local file URL`),
    );
    expect(e.message).toMatch(why);
    const cache = errorOf({ ...base, cache: { location: url } });
    expect(cache.message).toMatch(/^cache\.location: /);
  });

  it('refuses a cache.location a file tier would list: its manifests would be read as records', () => {
    const tiers = (gcs: string[]) => ({ proxy: { locations: ['proxy/dt={date}/'] }, gcs: { locations: gcs } });
    for (const [gcs, cache, inside] of [
      [['landed/'], 'landed/.cache', 'tiers.gcs.locations[0] ("landed/")'],
      [['landed'], 'landed', 'tiers.gcs.locations[0] ("landed")'],
      [['x/', 'landed/{yyyy}/{MM}/'], 'landed/2025/03/cache/', 'tiers.gcs.locations[1] ("landed/{yyyy}/{MM}/")'],
      [['gs://logs-bkt/logs/'], 'gs://logs-bkt/logs/cache/', 'tiers.gcs.locations[0] ("gs://logs-bkt/logs/")'],
      [['landed/'], '/base/landed/c', 'tiers.gcs.locations[0] ("landed/")'],
    ] as const) {
      const e = errorOf({ ...base, tiers: tiers([...gcs]), cache: { location: cache } });
      expect(e.message).toBe(
        `cache.location: "${cache}" is inside ${inside}: the tier would read the cache's own files as records; ` +
          'choose a folder outside every location',
      );
    }
    expect(errorOf({ ...base, cache: { location: 'proxy/dt=2025-03-09/c' } }).message).toMatch(
      /^cache\.location: .* is inside tiers\.proxy\.locations\[0\]/,
    );
    // Beside a location, or below its fixed part where no day's folder reaches, or in another bucket: taken.
    for (const [gcs, cache] of [
      [['landed/dt={date}/'], 'landed/.cache'],
      [['landed/'], 'landed-cache/'],
      [['gs://logs-bkt/logs/'], 'gs://logs-bkt/cache/'],
      [['gs://logs-bkt/logs/'], 'gs://other-bkt/logs/cache/'],
      [['gs://logs-bkt/logs/'], 'logs/cache/'],
    ] as const)
      expect(parseConfig({ ...base, tiers: tiers([...gcs]), cache: { location: cache } }, '/base').cache).toBeDefined();
  });

  it.each([
    [{ ...base, extra: 1 }, 'extra'],
    [{ ...base, tiers: { ...base.tiers, gcs: { locations: ['x'], apiKey: 's3cret' } } }, 'tiers.gcs.apiKey'],
    [
      { ...base, tiers: { ...base.tiers, gcs: { locations: ['x'], apiEndpoint: 'http://127.0.0.1:4443/storage/v1' } } },
      'tiers.gcs.apiEndpoint',
    ],
    [{ ...base, tiers: { ...base.tiers, kafka: { clusters: {} } } }, 'tiers.kafka.topic'],
    [
      {
        ...base,
        tiers: {
          ...base.tiers,
          kafka: {
            topic: 't',
            clusters: {
              EUS2: {
                brokers: ['h:1'],
                sasl: { mechanism: 'plain', usernameEnv: 'U', passwordEnv: 'P', password: 'x' },
              },
            },
          },
        },
      },
      'tiers.kafka.clusters.EUS2.sasl.password',
    ],
    [
      {
        ...base,
        tiers: {
          ...base.tiers,
          kafka: { topic: 't', clusters: { EUS2: { brokers: ['a:1'] }, eus2: { brokers: ['b:1'] } } },
        },
      },
      'tiers.kafka.clusters.eus2',
    ],
    [
      {
        ...base,
        tiers: {
          ...base.tiers,
          kafka: { topic: 't', clusters: { EUS2: { brokers: ['a:1'] }, SCUS: { brokers: ['A:1'] } } },
        },
      },
      'tiers.kafka.clusters.SCUS.brokers',
    ],
    [
      {
        ...base,
        tiers: {
          ...base.tiers,
          kafka: { topic: 't', clusters: { EUS2: { brokers: ['a:1'] }, Records: { brokers: ['b:1'] } } },
        },
      },
      'tiers.kafka.clusters.Records',
    ],
    [
      {
        ...base,
        tiers: {
          ...base.tiers,
          kafka: { topic: 't', clusters: { EUS2: { brokers: ['a:1'] }, EXPIRED: { brokers: ['b:1'] } } },
        },
      },
      'tiers.kafka.clusters.EXPIRED',
    ],
    [
      { ...base, tiers: { ...base.tiers, kafka: { topic: 't', clusters: { EUS2: { brokers: ['h:99999'] } } } } },
      'tiers.kafka.clusters.EUS2.brokers[0]',
    ],
    // A mistyped bucket would keep the cache in a local folder named gs: (lost with the pod).
    [{ ...base, cache: { location: 'gs:/cache-bkt/c/' } }, 'cache.location'],
    [{ ...base, cache: { location: 'GS://cache-bkt/c/' } }, 'cache.location'],
    [
      { ...base, tiers: { ...base.tiers, gcs: { locations: ['x'], apiEndpoint: 'http://svc:s3cr3t@127.0.0.1:4443' } } },
      'tiers.gcs.apiEndpoint',
    ],
    [
      {
        ...base,
        tiers: {
          ...base.tiers,
          bigquery: { table: 'my-proj.audit.landed', apiEndpoint: 'https://bq.example/?key=s3cr3t' },
        },
      },
      'tiers.bigquery.apiEndpoint',
    ],
    [
      {
        ...base,
        tiers: {
          ...base.tiers,
          bigquery: { table: 'my-proj.audit.landed', apiEndpoint: 'http://u:s3cr3t@127.0.0.1:9050' },
        },
      },
      'tiers.bigquery.apiEndpoint',
    ],
    [{ ...base, tiers: { ...base.tiers, bigquery: { table: 'not a table' } } }, 'tiers.bigquery.table'],
    [{ ...base, tiers: { proxy: { locations: [] }, gcs: base.tiers.gcs } }, 'tiers.proxy.locations'],
    [{ ...base, tiers: { proxy: { locations: ['s3://bucket/x'] }, gcs: base.tiers.gcs } }, 'tiers.proxy.locations[0]'],
    [
      { ...base, tiers: { proxy: { locations: ['proxy/dt={date/'] }, gcs: base.tiers.gcs } },
      'tiers.proxy.locations[0]',
    ],
    [{ ...base, tiers: { proxy: { locations: ['p/dt={{date}}/'] }, gcs: base.tiers.gcs } }, 'tiers.proxy.locations[0]'],
    [{ ...base, tiers: { ...base.tiers, gcs: { locations: ['x', 'gs:/b/dt={date}/'] } } }, 'tiers.gcs.locations[1]'],
    [{ ...base, sites: ['US', 'ALL'] }, 'sites[1]'],
    [{ ...base, thresholds: { warnPct: 101 } }, 'thresholds.warnPct'],
    [{ ...base, thresholds: { landedNotAcceptedPct: -1 } }, 'thresholds.landedNotAcceptedPct'],
    [{ ...base, thresholds: { volumeDropPct: 'half' } }, 'thresholds.volumeDropPct'],
    [
      { ...base, tiers: { ...base.tiers, proxy: { locations: ['p'], fields: { status: 'http.status; DROP' } } } },
      'tiers.proxy.fields.status',
    ],
  ])('names the key path of %j', (doc, keyPath) => {
    const e = errorOf(doc);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.path).toBe(keyPath);
    expect(e.message).not.toContain('s3cr3t');
  });

  const landedTable = {
    table: 'my-proj.audit.landed',
    projectId: 'my-billing',
    location: 'EU',
    apiEndpoint: 'http://127.0.0.1:9050',
    maximumBytesBilled: 1000,
  };
  const proxyTable = { table: 'my-proj.logs.proxy' };

  it('takes maximumBytesBilled by one rule as a number or as text, and a project id only as BigQuery writes one', () => {
    const bq = (over: Record<string, unknown>) => ({ tiers: { ...base.tiers, bigquery: { ...landedTable, ...over } } });
    for (const bad of [0, '0', -5, '99999999999999999999999', 1e30])
      expect(errorOf(bq({ maximumBytesBilled: bad })).message).toMatch(
        /^tiers\.bigquery\.maximumBytesBilled: (a whole number of bytes from 1|Too big)/,
      );
    expect(
      parseConfig(bq({ maximumBytesBilled: '9223372036854775807' }), '/b').tiers.bigquery!.maximumBytesBilled,
    ).toBe('9223372036854775807');
    // A wrong project went to BigQuery and came back exit 3, a table "not found" naming other keys.
    // A table name refused says what the form is, not only its name.
    expect(errorOf(bq({ table: 'My-Proj.audit.landed' })).message).toMatch(
      /^tiers\.bigquery\.table: not project\.dataset\.table: a lower-case project id/,
    );
    for (const bad of ['x`; DROP', 'My-Project', 'p', 'proj_1'])
      expect(errorOf(bq({ projectId: bad })).message).toMatch(/^tiers\.bigquery\.projectId: a project id/);
  });

  it('spells a zone as the zone database does: the case set right, an alias left as written', () => {
    const zoneOf = (timezone: string) => parseConfig({ ...base, timezone }, '/base').timezone;
    expect([zoneOf('america/chicago'), zoneOf('utc'), zoneOf('US/Central')]).toEqual([
      'America/Chicago',
      'UTC',
      'US/Central',
    ]);
  });

  it('reads the proxy from a BigQuery table, taking the connection keys of tiers.bigquery it does not set', () => {
    const c = parseConfig({ tiers: { proxy: { bigquery: proxyTable }, bigquery: landedTable } }, '/base');
    expect(c.tiers.proxy).toBeUndefined();
    expect(c.tiers.proxyBigquery).toEqual({
      table: 'my-proj.logs.proxy',
      columns: { timestamp: 'timestamp', request_id: 'request_id', site: 'site', status: 'status', partition: 'dt' },
      projectId: 'my-billing',
      location: 'EU',
      apiEndpoint: 'http://127.0.0.1:9050',
      maximumBytesBilled: '1000',
      partitionMarginDays: 1,
    });
    const own = parseConfig(
      {
        tiers: { proxy: { bigquery: { ...proxyTable, location: 'US', maximumBytesBilled: '5' } }, gcs: base.tiers.gcs },
      },
      '/base',
    );
    expect(own.tiers.proxyBigquery).toMatchObject({ location: 'US', maximumBytesBilled: '5' });
    expect(own.tiers.proxyBigquery!.projectId).toBeUndefined();
  });

  it("takes engine: bigquery as shorthand, with the scratch dataset defaulting to the history table's", () => {
    const doc = {
      tiers: {
        proxy: { bigquery: proxyTable },
        bigquery: { ...landedTable, history: { table: 'my-proj.ops.parity_history' } },
      },
    };
    expect(parseConfig({ ...doc, engine: 'bigquery' }, '/base').engine).toMatchObject({
      kind: 'bigquery',
      dataset: 'my-proj.ops',
      batchDays: 7,
    });
    expect(
      parseConfig({ ...doc, engine: { kind: 'bigquery', dataset: 'my-proj.scratch' } }, '/base').engine.dataset,
    ).toBe('my-proj.scratch');
    expect(parseConfig(base, '/base').engine.kind).toBe('embedded');
  });

  it("refuses a file tier's keys beside a proxy table: they were accepted and ignored", () => {
    for (const [key, value, why] of [
      ['fields', { timestamp: 'ts' }, 'tiers.proxy.bigquery.columns'],
      ['lateArrivalDays', 5, 'partitionMarginDays'],
      ['clockSkewDays', 1, 'partitionMarginDays'],
    ] as const) {
      const e = configErrorOf({ ...base, tiers: { ...base.tiers, proxy: { bigquery: proxyTable, [key]: value } } });
      expect(e.message).toMatch(new RegExp(`^tiers\\.proxy\\.${key}: not a key of a proxy read from a table.*${why}`));
    }
    const taken = parseConfig({ ...base, tiers: { ...base.tiers, proxy: { bigquery: proxyTable } } }, '/base');
    expect(taken.tiers.proxyBigquery).toMatchObject({ table: 'my-proj.logs.proxy' });
  });

  it.each([
    ['tiers.bigquery.table', (t: string) => ({ bigquery: { ...landedTable, table: t, history: { table: t } } })],
    [
      'tiers.proxy.bigquery.table',
      (t: string) => ({
        proxy: { bigquery: { ...proxyTable, table: t } },
        bigquery: { ...landedTable, history: { table: t.toUpperCase().replace('MY-PROJ', 'my-proj') } },
      }),
    ],
  ])('refuses a history table that is the audited one (%s): runs would replace its rows', (key, tiers) => {
    const e = configErrorOf({ ...base, tiers: { ...base.tiers, ...tiers('my-proj.audit.events') } });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.path).toBe('tiers.bigquery.history.table');
    expect(e.message).toContain(`the table the job audits (${key})`);
  });

  it('counts two days a pass by default with the embedded engine, seven with bigquery, or as configured', () => {
    expect(parseConfig(base, '/base').engine).toMatchObject({ kind: 'embedded', batchDays: 2 });
    expect(parseConfig({ ...base, engine: { batchDays: 5 } }, '/base').engine.batchDays).toBe(5);
    expect(parseConfig({ ...base, engine: { kind: 'embedded', memoryLimit: '1GiB' } }, '/base').engine.batchDays).toBe(
      2,
    );
  });

  it.each([
    [
      { tiers: { proxy: { locations: ['p'], bigquery: proxyTable }, gcs: base.tiers.gcs } },
      'tiers.proxy.locations',
      /either locations/,
    ],
    [{ tiers: { proxy: {}, gcs: base.tiers.gcs } }, 'tiers.proxy.locations', /either locations/],
    [
      { tiers: { proxy: { bigquery: { table: 'p.d' } }, gcs: base.tiers.gcs } },
      'tiers.proxy.bigquery.table',
      /project.dataset.table/,
    ],
    [
      { tiers: { proxy: { bigquery: { ...proxyTable, columns: { status: 'a b' } } }, gcs: base.tiers.gcs } },
      'tiers.proxy.bigquery.columns.status',
      /column/,
    ],
    [{ ...base, engine: 'spark' }, 'engine.kind', /embedded|bigquery/],
    [
      { ...base, tiers: { ...base.tiers, bigquery: landedTable }, engine: { kind: 'bigquery', dataset: 'my-proj.s' } },
      'tiers.proxy.bigquery',
      /proxy from a BigQuery table/,
    ],
    [
      {
        tiers: { proxy: { bigquery: proxyTable }, gcs: base.tiers.gcs },
        engine: { kind: 'bigquery', dataset: 'my-proj.s' },
      },
      'tiers.bigquery',
      /external table/,
    ],
    [
      {
        tiers: { proxy: { bigquery: proxyTable }, gcs: base.tiers.gcs, bigquery: landedTable },
        engine: { kind: 'bigquery', dataset: 'my-proj.s' },
      },
      'tiers.gcs',
      /external table over these GCS prefixes/,
    ],
    [
      { tiers: { proxy: { bigquery: proxyTable }, bigquery: landedTable }, engine: 'bigquery' },
      'engine.dataset',
      /scratch tables/,
    ],
    [
      {
        tiers: { proxy: { bigquery: proxyTable }, bigquery: landedTable },
        engine: { kind: 'bigquery', dataset: 'my-proj' },
      },
      'engine.dataset',
      /project.dataset/,
    ],
  ])('refuses %j at %s', (doc, key, message) => {
    const e = errorOf(doc);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(key);
    expect(e.message).toMatch(message);
  });

  it('lets alerts.on name NO_DATA, and refuses a status that does not exist by its key path', () => {
    expect(parseConfig({ ...base, alerts: { on: ['NO_DATA'] } }, '/base').alerts.on).toEqual(['NO_DATA']);
    expect(errorOf({ ...base, alerts: { on: ['FAILED'] } }).message).toContain('alerts.on[0]');
  });

  it('never echoes a secret it refuses', () => {
    const e = errorOf({ ...base, tiers: { ...base.tiers, gcs: { locations: ['x'], apiKey: 's3cret' } } });
    expect(e.message).not.toContain('s3cret');
    expect(e.message).toContain('environment');
  });
});

describe('config: sites with a zone of their own', () => {
  it('takes a site as a code or as { code, timezone }, keeping the codes in report order', () => {
    const c = parseConfig(
      {
        ...base,
        timezone: 'America/Chicago',
        sites: ['us', { code: 'CA', timezone: 'America/Toronto' }, { code: 'mx', timezone: 'America/Mexico_City' }],
      },
      '/base',
    );
    expect(c.sites).toEqual(['US', 'CA', 'MX']);
    expect(c.siteZones).toEqual({ CA: 'America/Toronto', MX: 'America/Mexico_City' });
    expect(zoneOfSite(c, 'US')).toBe('America/Chicago');
    expect(zoneOfSite(c, 'MX')).toBe('America/Mexico_City');
    expect(zoneOfSite(c, 'UNKNOWN')).toBe('America/Chicago');
    expect(zonesOf(c)).toEqual(['America/Chicago', 'America/Toronto', 'America/Mexico_City']);
  });

  it('resolves a config of plain codes exactly as before: no per-site zones at all', () => {
    const c = parseConfig({ ...base, sites: ['US', 'MX'] }, '/base');
    expect(c.sites).toEqual(['US', 'MX']);
    expect('siteZones' in c).toBe(false);
    expect(zoneOfSite(c, 'MX')).toBe('UTC');
    expect(parseConfig({ ...base, sites: [{ code: 'US' }, 'MX'] }, '/base')).toEqual(c);
  });

  it.each([
    [{ ...base, sites: ['US', 'CA', { code: 'MX', timezone: 'Mars/Olympus_Mons' }] }, 'sites[2].timezone'],
    [{ ...base, sites: ['US', { code: 'MX', tz: 'America/Mexico_City' }] }, 'sites[1].tz'],
    [{ ...base, sites: [{ timezone: 'America/Mexico_City' }] }, 'sites[0].code'],
    [{ ...base, sites: ['US', { code: 'ALL', timezone: 'UTC' }] }, 'sites[1].code'],
    [{ ...base, sites: [42] }, 'sites[0]'],
    [{ ...base, sites: ['MX', { code: 'mx', timezone: 'America/Mexico_City' }] }, 'sites'],
  ])('names the key path of a wrong site entry in %j', (doc, keyPath) => {
    const e = errorOf(doc);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.path).toBe(keyPath);
  });

  it('says what a bad zone is and what a site entry may be', () => {
    expect(errorOf({ ...base, sites: [{ code: 'MX', timezone: 'Mexico City' }] }).message).toMatch(
      /"Mexico City" is not an IANA time zone/,
    );
    expect(errorOf({ ...base, sites: [42] }).message).toMatch(/a site is a code such as "US", or \{ code/);
  });
});

describe('record columns', () => {
  it('reads nested dotted paths as structs and only the fields the job needs', () => {
    const c = buildRecordColumns(
      {
        timestamp: 'ts',
        request_id: 'http.headers.x-request-id',
        site: 'http.headers.wm-site-id',
        status: 'http.status',
        region: 'region',
      },
      'f',
    );
    expect(c.columns).toBe(
      `{'ts': 'VARCHAR', 'http': 'STRUCT("headers" STRUCT("x-request-id" VARCHAR, "wm-site-id" VARCHAR), "status" VARCHAR)', 'region': 'VARCHAR'}`,
    );
    expect(c.expr.site).toBe(`"http"['headers']['wm-site-id']`);
  });

  it('refuses a path that is both a value and an object', () => {
    expect(() =>
      buildRecordColumns(
        { timestamp: 'a', request_id: 'a.b', site: 's', status: 'st', region: 'r' },
        'tiers.proxy.fields',
      ),
    ).toThrow(ConfigError);
  });
});

describe('the config file', () => {
  const file = async (name: string, text: string | Buffer) => {
    const dir = await tempDir();
    await writeFile(path.join(dir, name), text);
    return path.join(dir, name);
  };

  it('refuses a JSON key given twice (JSON.parse kept the last), naming where', async () => {
    const text = JSON.stringify(base).replace('{', '{"timezone":"UTC","timezone":"America/Chicago",');
    const e = await loadConfig(await file('dup.json', text)).catch((x: unknown) => x as ConfigError);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toMatch(/is not valid JSON: Map keys must be unique at line 1, column \d+$/);
  });

  it('says where a JSON file breaks, as a line and column, whatever JSON.parse said', async () => {
    const cases: [string, RegExp][] = [
      ['{\n  "timezone": "UTC",\n  sites: ["US"]\n}\n', /: Expected double-quoted property name at line 3, column 3$/],
      ['// a comment\n{}\n', /: Unexpected token '\/' at line 1, column 1$/],
      // JSON.parse names no position for these: found by parsing shorter prefixes (before 0.3.7 "no position given").
      ['{\n  "timezone": "UTC",\n  "sites": [US]\n}\n', /: Unexpected token 'U' at line 3, column 13$/],
      ['{\n  "thresholds": { "warnPct": }\n}\n', /: Unexpected token '}' at line 2, column 30$/],
      [
        '{"sites": ["US", "CA"], "timezone": "UTC" ]',
        /: Expected ',' or '}' after property value at line 1, column 43$/,
      ],
      ['{"timezone": "\u00e9t\u00e9", "x": tru }', /: Unexpected token ' ' at line 1, column 29$/],
      ['{"a": 1}\n}\n', /: Unexpected non-whitespace character at line 2, column 1$/],
      ['{"timezone": "UTC",}\n', /: Expected double-quoted property name at line 1, column 20$/],
    ];
    for (const [text, message] of cases) {
      const e = await loadConfig(await file('bad.json', text)).catch((x: unknown) => x as ConfigError);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message).toMatch(/^--config: ".*bad\.json" is not valid JSON/);
      expect((e as ConfigError).message).toMatch(message);
    }
  });

  it('merges a YAML map given with <<: *anchor, as Kubernetes files do (it was an unknown key "<<")', async () => {
    const text = [
      'tiers:',
      '  proxy: &files',
      "    locations: ['proxy/dt={date}/']",
      '    lateArrivalDays: 2',
      '    clockSkewDays: 1',
      '  gcs:',
      '    <<: *files',
      "    locations: ['landed/dt={date}/']",
    ].join('\n');
    const c = await loadConfig(await file('merge.yaml', text));
    expect([c.tiers.gcs!.lateArrivalDays, c.tiers.gcs!.clockSkewDays]).toEqual([2, 1]);
    expect(c.tiers.gcs!.raw).toEqual(['landed/dt={date}/']);
    expect(c.tiers.proxy!.raw).toEqual(['proxy/dt={date}/']);
  });

  it('reads a JSON file that begins with a byte-order mark, as a YAML one', async () => {
    const c = await loadConfig(
      await file('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(base))])),
    );
    expect(c.sites).toEqual(parseConfig(base, '/base').sites);
  });

  it('refuses what the YAML reader only warned of (an unknown tag, read as text), printing nothing', async () => {
    // What the reader would print: YAML warns through process.emitWarning (else console.warn).
    const printed: unknown[] = [];
    const [emitWarning, consoleWarn] = [process.emitWarning, console.warn];
    process.emitWarning = (...args: unknown[]) => void printed.push(args);
    console.warn = (...args: unknown[]) => void printed.push(args);
    try {
      const text = `timezone: !foo UTC\n${YAML.stringify(base)}`;
      expect(text).toContain('!foo');
      const e = await loadConfig(await file('tag.yaml', text)).catch((x: unknown) => x as ConfigError);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message).toMatch(/is not valid YAML: Unresolved tag: !foo at line \d+, column \d+$/);
      expect(printed).toEqual([]);
      // Anchors and aliases are YAML, not a fault.
      const aliased = await loadConfig(await file('alias.yaml', `x: &z America/Chicago\ny: *z\n`)).catch(
        (x: unknown) => x,
      );
      // Read whole (the aliases resolved), then refused for its keys, not as YAML.
      expect((aliased as ConfigError).message).not.toContain('YAML');
    } finally {
      [process.emitWarning, console.warn] = [emitWarning, consoleWarn];
    }
  });
});
