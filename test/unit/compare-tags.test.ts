import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { duckdbColumnTags, duckdbPayloadTags, compareSqlOf } from '../../src/engine/compare-sql.js';
import { DuckDBInstance, listValue, LIST, VARCHAR } from '../../src/engine/duckdb-api.js';
import { buildRecordColumns, DEFAULT_FIELDS } from '../../src/engine/record-columns.js';
import { tempDir } from '../support/files.js';

/**
 * One payload read both ways compare knows: as a Kafka message's JSON value (duckdbPayloadTags) and as a
 * landed file's line (read_ndjson's columns, duckdbColumnTags). The same bytes must give the same tags.
 */
describe("compare's tags: the same JSON gives the same tags as a Kafka value and as a file line", () => {
  it('for numbers the engine renders two ways (1e-05 against 0.00001), and every other kind of value', async () => {
    const values = [
      '0.00001',
      '1e16',
      '1.5e300',
      '-1e-7',
      '123456789012345678901234567890',
      '10.0',
      '12.5',
      '-0.0',
      'true',
      'null',
      '"1.50"',
      '"é\\u00e9\\n\\"q\\""',
      '[1, {"a": 2.50}]',
      '{"z": 1, "a": [true, null]}',
    ];
    const paths = ['body.amount', 'user.id'];
    const cmp = compareSqlOf(paths)!;
    const lines = values.map((v) => `{"body": {"amount": ${v}}, "user": {"id": ${v}}}`);
    const dir = await tempDir();
    const file = path.join(dir, 'landed.jsonl');
    await writeFile(file, lines.join('\n') + '\n');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const { columns, extraExpr } = buildRecordColumns(DEFAULT_FIELDS, 'tiers.gcs.fields', paths);
      const fileTags = (
        await db.runAndReadAll(
          `SELECT ${duckdbColumnTags(cmp, extraExpr)} AS t FROM read_ndjson('${file}', columns = ${columns}, ` +
            `format = 'newline_delimited', ignore_errors = true)`,
        )
      ).getRowObjectsJS();
      const kafkaTags = (
        await db.runAndReadAll(
          `SELECT ${duckdbPayloadTags(cmp)} AS t FROM (SELECT unnest($lines) AS payload)`,
          { lines: listValue(lines) },
          { lines: LIST(VARCHAR) } as never,
        )
      ).getRowObjectsJS();
      expect(fileTags).toHaveLength(values.length);
      expect(kafkaTags.map((r, i) => [values[i], r.t])).toEqual(fileTags.map((r, i) => [values[i], r.t]));
    } finally {
      db.closeSync();
    }
  });
});
