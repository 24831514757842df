/**
 * A Kafka value's request id field (src/engine/kafka-json.ts) against the file tiers' own reading of the
 * same text: DuckDB's read_ndjson with the columns the engine builds (src/engine/record-columns.ts), on
 * generated JSON lines of every value shape, the oracle. The sink writes each value as a landed line,
 * so the two must give the same text for every id, or a record reads as lost before Kafka.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { prng } from '../../src/demo/generator.js';
import { buildRecordColumns } from '../../src/engine/record-columns.js';
import { jsonFieldText, numberText, strictJson } from '../../src/engine/kafka-json.js';
import { requestIdDecoder } from '../../src/tiers/kafka-decode.js';
import { tempDir } from '../support/files.js';

const FIELDS = { timestamp: 'timestamp', site: 'site', status: 'status', region: 'region' };

/** What read_ndjson gives for `field` (a dotted path) of each line, in order. */
async function duckdbReads(lines: string[], field: string): Promise<Array<string | null>> {
  const file = path.join(await tempDir(), 'lines.jsonl');
  // Each line numbered in a key of its own, first, so that a duplicated key elsewhere cannot move it.
  await writeFile(file, lines.map((l, n) => l.replace(/^(\s*)\{/, `$1{"parity_n":${n},`)).join('\n') + '\n');
  const cols = buildRecordColumns({ ...FIELDS, request_id: field }, 'fields');
  const columns = cols.columns.replace(/^\{/, "{'parity_n': 'BIGINT', ");
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const reader = await conn.runAndReadAll(
    `SELECT parity_n, CAST(${cols.expr.request_id} AS VARCHAR) AS id FROM read_ndjson('${file}', columns = ${columns},
       format = 'newline_delimited', ignore_errors = true, hive_partitioning = false)`,
  );
  const out: Array<string | null> = lines.map(() => null);
  for (const [n, id] of reader.getRows()) if (n !== null) out[Number(n)] = id === null ? null : String(id);
  conn.closeSync();
  return out;
}

/** Numbers of every shape the grammar allows: signs, fractions, exponents, sizes past 2^53 and 2^64. */
function numberToken(rnd: () => number): string {
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  const int = (n: number) => {
    const d = digits(n);
    return d.replace(/^0+(?=\d)/, '') || '0';
  };
  const sign = rnd() < 0.3 ? '-' : '';
  const whole = rnd() < 0.2 ? '0' : int(1 + Math.floor(rnd() * 24));
  const fraction = rnd() < 0.5 ? `.${digits(1 + Math.floor(rnd() * 20))}` : '';
  const exponent =
    rnd() < 0.4 ? `${rnd() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(rnd() * 3)]}${Math.floor(rnd() * 30)}` : '';
  return `${sign}${whole}${fraction}${exponent}`;
}

const FIXED = [
  '0',
  '-0',
  '0.0',
  '-0.0',
  '1.0',
  '1e3',
  '1E2',
  '1e15',
  '1e16',
  '1e-4',
  '1e-5',
  '2.5e-7',
  '123.456',
  '1e22',
  '5e-324',
  '1.7976931348623157e308',
  '1e400',
  '-1e400',
  '18446744073709551615',
  '18446744073709551616',
  '-9223372036854775809',
  '9007199254740993',
  '0.30000000000000004',
  '100000000000000000000.0',
  '1e-400',
];

describe('numbers', () => {
  test('are written as DuckDB writes them, on fixed edges and 3,000 generated ones', async () => {
    const rnd = prng(20261130);
    const tokens = [...FIXED, ...Array.from({ length: 3000 }, () => numberToken(rnd))];
    const lines = tokens.map((t) => `{"request_id":${t}}`);
    expect(tokens.map(numberText)).toEqual(await duckdbReads(lines, 'request_id'));
  });
});

describe('request ids in values', () => {
  const LINES = [
    '{"request_id":"abc"}',
    '{"request_id":"first","request_id":"second"}',
    '{ "request_id" : 12345678901234567890 , "site":"US"}',
    '{"request_id":1.0}',
    '{"request_id":true}',
    '{"request_id":false}',
    '{"request_id":null}',
    '{"request_id":""}',
    '{"request_id":"  "}',
    '{"request_id":"tab\\tand \\"quote\\" and \\u00e9 and \\ud83d\\ude00"}',
    '{"request_id":[1,"a",{"b":null}]}',
    '{"request_id":{"x": [true, null], "y":"z"}}',
    '{"request":{"id":"nested"}}',
    '{"site":"US"}',
    '{"request_id":"a"',
    'not json',
    '{"Request_ID":"case"}',
    '{"request_id\\u0000":"nul key"}',
    '{"a":{"request_id":"deeper"},"request_id":"top"}',
    '{"a":"}{\\"request_id\\":\\"in a string\\"","request_id":"after"}',
    // What DuckDB's reader takes beyond JSON: NaN and infinities, a trailing comma
    '{"request_id":"abc","latency_ms":NaN}',
    '{"request_id":NaN}',
    '{"request_id":-Infinity}',
    '{"request_id":[NaN, Infinity, -inf, nan]}',
    '{"request_id":"abc","site":"US",}',
    '{"request_id":[1,2,],"x":{"y":1,}}',
    '{"request":{"id":"a",}}',
    '{"request_id":"abc","y":+nan}',
    '{"request_id":"abc","y":infinityx}',
    '{"request_id":"abc","y":[,]}',
    '{"request_id":"abc","y":[1,,2]}',
    '{"request_id":[1,],}',
    '{"request_id":"q,]","y":NaN}',
    // and what it refuses that JSON.parse takes: half a surrogate pair
    '{"request_id":"abc","x":"\\ud800"}',
    '{"request_id":"\\udc00"}',
    '{"request_id":"\\ud83d\\ude00 pair"}',
    // control characters in an object written back, vertical tab and form feed at the ends
    '{"request_id":{"k":"\\u001f\\u000b\\b\\u007f"}}',
    '\u000b{"request_id":"vt"}\f',
    '{"request_id":"a"}"',
  ];

  test.each(['request_id', 'request.id'])(
    'the field %s: the same text as the file tiers read, line by line',
    async (field) => {
      const expected = await duckdbReads(LINES, field);
      expect(LINES.map((l) => jsonFieldText(l, field.split('.')))).toEqual(expected);
      // The example is not empty: ids of every kind are read.
      expect(expected.filter((v) => v !== null).length).toBeGreaterThan(field === 'request_id' ? 12 : 0);
    },
  );

  test.each([7, 8, 9])(
    'generated values, nested and with repeated keys, give what the file tiers read (seed %i)',
    async (seed) => {
      const rnd = prng(seed);
      const value = (depth: number): string => {
        const r = rnd();
        if (r < 0.25) return JSON.stringify(`id-${Math.floor(rnd() * 1e6)}${rnd() < 0.2 ? ' \u00e9\n' : ''}`);
        if (r < 0.5) return numberToken(rnd);
        if (r < 0.6) return ['true', 'false', 'null'][Math.floor(rnd() * 3)]!;
        if (r < 0.8 && depth < 3) {
          const keys = ['id', 'request_id', 'request', 'x'];
          const n = Math.floor(rnd() * 4);
          const members = Array.from({ length: n }, () => `"${keys[Math.floor(rnd() * 4)]}" : ${value(depth + 1)}`);
          return `{${members.join(rnd() < 0.5 ? ',' : ' ,\n ')}}`.replace(/\n/g, ' ');
        }
        if (depth < 3) return `[${Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1)).join(',')}]`;
        return '"leaf"';
      };
      const lines = Array.from({ length: 2000 }, () => {
        const members = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
          const key = ['request_id', 'request', 'site', 'other'][Math.floor(rnd() * 4)];
          return `"${key}":${value(0)}`;
        });
        return `{${members.join(',')}}`;
      });
      for (const field of ['request_id', 'request.id', 'request.request']) {
        const expected = await duckdbReads(lines, field);
        expect(lines.map((l) => jsonFieldText(l, field.split('.')))).toEqual(expected);
      }
    },
  );

  test('mutated lines (NaN, commas, surrogates, escapes, quotes, blanks) read as the file tiers read them', async () => {
    const rnd = prng(99);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const inserts = [
      'NaN',
      '-inf',
      'Infinity',
      'nan',
      '+nan',
      ',',
      ',,',
      '"\\ud800"',
      '"\\udfff\\ud800"',
      '"\\u001f"',
      '"',
      '}',
      ']',
      ' ',
      '\u000b',
      '\f',
      '[',
      '{',
      ':',
      '1e400',
      '-0',
      'tru',
      '"\\ud83d\\ude00"',
    ];
    const base = [
      '{"request_id":"a1","site":"US","n":[1,2,{"b":3}]}',
      '{"x":1,"request_id":42,"request":{"id":"i"}}',
      '{"request_id":[true,null,"s"],"y":{"z":[]}}',
      '{"request":{"id":7.5,"q":"r"},"request_id":"t"}',
    ];
    const lines = Array.from({ length: 3000 }, () => {
      let line = pick(base);
      for (let k = 1 + Math.floor(rnd() * 2); k > 0; k--) {
        const at = Math.floor(rnd() * (line.length + 1));
        line = line.slice(0, at) + pick(inserts) + line.slice(at);
      }
      return line;
    });
    for (const field of ['request_id', 'request.id']) {
      const expected = await duckdbReads(lines, field);
      expect(lines.map((l) => jsonFieldText(l, field.split('.')))).toEqual(expected);
      // Mutations break most lines, but not all: both outcomes are compared.
      const read = expected.filter((v) => v !== null).length;
      expect(read).toBeGreaterThan(100);
      expect(read).toBeLessThan(2700);
    }
  });

  test('strictJson gives what a strict parser takes, and its fields read as the value itself reads (BigQuery engine)', () => {
    expect(strictJson('{"a":"5","r":NaN,"s":[-Infinity, inf],}')).toBe('{"a":"5","r":"NaN","s":["-Infinity", "inf"]}');
    expect(strictJson('{"a":"NaN"}')).toBe('{"a":"NaN"}'); // a string is left as it is
    // A string's own ",]" is text, never a trailing comma; a run of trailing commas goes whole.
    expect(strictJson('{"a":"q,]","b":NaN}')).toBe('{"a":"q,]","b":"NaN"}');
    expect(strictJson('{"a":[1,],"b":"x",}')).toBe('{"a":[1],"b":"x"}');
    expect(strictJson('{"a":[1,],}')).toBe('{"a":[1]}');
    expect(strictJson('{"a":1')).toBeNull();
    expect(strictJson('{"x":"\\ud800"}')).toBeNull(); // DuckDB's reader takes none: compared with nothing
    const rnd = prng(4242);
    const inserts = ['NaN', '-inf', 'Infinity', ',', '"\\ud800"', '}', '1e400', ' '];
    const base = [
      '{"request_id":"a1","n":[1,2,{"b":3}],"request":{"id":"i"}}',
      '{"request":{"id":7.5},"x":[true,null]}',
    ];
    let strict = 0;
    for (let i = 0; i < 3000; i++) {
      let line = base[i % 2]!;
      const at = Math.floor(rnd() * (line.length + 1));
      line = line.slice(0, at) + inserts[Math.floor(rnd() * inserts.length)]! + line.slice(at);
      const s = strictJson(line);
      for (const field of [['request_id'], ['request', 'id'], ['n']])
        expect([line, s === null ? null : jsonFieldText(s, field)]).toEqual([line, jsonFieldText(line, field)]);
      if (s === null) continue;
      expect(() => JSON.parse(s)).not.toThrow();
      strict++;
    }
    expect(strict).toBeGreaterThan(500);
  });

  test('a value with a newline is no record: written out, it is several lines', () => {
    expect(jsonFieldText('{"request_id":\n"a"}', ['request_id'])).toBeNull();
    expect(jsonFieldText('{"request_id":"a"}\n', ['request_id'])).toBeNull();
  });

  test('the decoder reads a message value so, and an empty id stays none', () => {
    const decode = requestIdDecoder({ from: 'value', field: 'request_id' });
    const msg = (value: string | null) =>
      ({ key: null, value: value === null ? null : Buffer.from(value), headers: {} }) as never;
    expect(decode(msg('{"request_id":12345678901234567890}'))).toBe('12345678901234567890');
    expect(decode(msg('{"request_id":"a","request_id":"b"}'))).toBe('a');
    expect(decode(msg('{"request_id":""}'))).toBeNull();
    // Not UTF-8 (a 0xFF byte in another field): the landed line is a row of NULLs, so no id here either.
    const bytes = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff]), Buffer.from('","request_id":"ok"}')]);
    expect(decode({ key: null, value: bytes, headers: {} } as never)).toBeNull();
    expect(decode(msg(''))).toBeNull();
    expect(decode(msg(null))).toBeNull();
  });
});
