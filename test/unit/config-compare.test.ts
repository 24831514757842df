import { parseConfig } from '../../src/config.js';
import { buildRecordColumns } from '../../src/engine/record-columns.js';
import { ConfigError } from '../../src/errors.js';
import { BASE_CONFIG, configErrorOf } from '../support/config-doc.js';

const base = BASE_CONFIG;
const errorOf = configErrorOf;

describe('config: compare', () => {
  it('is off by default, and a config without it resolves exactly as before (no compare key at all)', () => {
    const c = parseConfig(base, '/base');
    expect('compare' in c).toBe(false);
    expect(parseConfig({ ...base, compare: [] }, '/base')).toEqual(c);
  });

  it('keeps the compared fields in config order', () => {
    const c = parseConfig({ ...base, compare: ['body.amount', 'user.id', 'note'] }, '/base');
    expect(c.compare).toEqual(['body.amount', 'user.id', 'note']);
  });

  it.each([
    [['body.amount', 'body amount'], 'compare[1]', /dotted plain keys/],
    [['body.amount', "x'); DROP TABLE t; --"], 'compare[1]', /dotted plain keys/],
    [['http.x-request-id'], 'compare[0]', /dotted plain keys/],
    [['body..amount'], 'compare[0]', /dotted plain keys/],
    [['user.id', 'user.id'], 'compare[1]', /listed twice/],
    [['body', 'body.amount'], 'compare[1]', /lies inside "body"/],
    ['body.amount', 'compare', /array/],
  ])('refuses compare %j naming %s', (compare, keyPath, message) => {
    const e = errorOf({ ...base, compare });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.path).toBe(keyPath);
    expect(e.message).toMatch(message);
  });

  it.each([
    [
      { compare: ['Region'] },
      'compare[0]',
      '"Region" and "region" of tiers.gcs.fields.region (its default) differ only in case',
    ],
    [{ compare: ['A', 'a'] }, 'compare[1]', '"a" and "A" of compare[0] differ'],
    [{ compare: ['Body.amount', 'body.note'] }, 'compare[1]', '"body" and "Body" of compare[0] differ'],
    [{ compare: ['body.Note', 'body.note'] }, 'compare[1]', '"note" and "Note" of compare[0] differ'],
    [{ gcsFields: { region: 'Timestamp' } }, 'tiers.gcs.fields.region', '"Timestamp" and "timestamp"'],
    [{ proxyFields: { site: 'Request_Id' } }, 'tiers.proxy.fields.site', '"Request_Id" and "request_id"'],
  ])('refuses names that differ only in case (%j), which the engine cannot read apart, naming %s', (c, key, text) => {
    const doc = {
      ...base,
      ...('compare' in c ? { compare: c.compare } : {}),
      tiers: {
        ...base.tiers,
        ...('gcsFields' in c ? { gcs: { ...base.tiers.gcs, fields: c.gcsFields } } : {}),
        ...('proxyFields' in c ? { proxy: { ...base.tiers.proxy, fields: c.proxyFields } } : {}),
      },
    };
    const e = errorOf(doc);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.path).toBe(key);
    expect(e.message).toContain(text);
    expect(e.message).toContain('differ only in case');
  });

  it('takes names that share a parent exactly (body.amount and body.note) and the same name twice across tiers', () => {
    expect(parseConfig({ ...base, compare: ['body.amount', 'body.note', 'region'] }, '/base').compare).toEqual([
      'body.amount',
      'body.note',
      'region',
    ]);
  });

  it('refuses, before anything is read, a compared field inside a landed record field or around one', () => {
    const gcs = (fields: Record<string, string>) => ({
      ...base,
      tiers: { ...base.tiers, gcs: { ...base.tiers.gcs, fields } },
    });
    const inside = errorOf({ ...gcs({ site: 'meta' }), compare: ['user.id', 'meta.site'] });
    expect([inside.path, inside.message]).toEqual([
      'compare[1]',
      expect.stringMatching(/tiers\.gcs\.fields\.site "meta"/),
    ]);
    const around = errorOf({ ...gcs({ site: 'meta.site' }), compare: ['meta'] });
    expect(around.path).toBe('compare[0]');
    expect(
      parseConfig({ ...gcs({ site: 'meta.site' }), compare: ['meta.site', 'meta.code'] }, '/base').compare,
    ).toEqual(['meta.site', 'meta.code']);
  });

  it('reads the compared fields beside the record fields, a path shared with a field once', () => {
    const fields = { timestamp: 'ts', request_id: 'request_id', site: 'meta.site', status: 'status', region: 'region' };
    const c = buildRecordColumns(fields, 'tiers.gcs.fields', ['body.amount', 'meta.site']);
    expect(c.columns).toBe(
      `{'ts': 'VARCHAR', 'request_id': 'VARCHAR', 'meta': 'STRUCT("site" VARCHAR)', 'status': 'VARCHAR', ` +
        `'region': 'VARCHAR', 'body': 'STRUCT("amount" VARCHAR)'}`,
    );
    expect(c.extraExpr).toEqual([`"body"['amount']`, `"meta"['site']`]);
  });

  it('names the compare entry that goes inside a field the tier reads as a value', () => {
    const fields = { timestamp: 'ts', request_id: 'request_id', site: 'site', status: 'status', region: 'region' };
    let error: unknown;
    try {
      buildRecordColumns(fields, 'tiers.gcs.fields', ['user.id', 'site.code']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe('compare[1]');
  });
});
