import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { IdFacts } from '../../src/domain.js';
import { rowsOf } from '../../src/engine/engine.js';
import { factColumn, missingSql } from '../../src/engine/fact-sql.js';
import { loadQuery } from '../../src/queries.js';
import { type FlagFact, meets, MISSING } from '../../src/reconcile/rules.js';

/** Every flag of IdFacts (lastReject is not a flag). */
const FLAGS: readonly FlagFact[] = [
  'inProxy',
  'accepted',
  'rejected',
  'unroutable',
  'kafkaKnown',
  'inKafka',
  'crossRegion',
  'inFlight',
  'inGcs',
  'inBigquery',
  'inFinal',
];

/** Every combination of the flags, as facts. */
function everyCombination(): IdFacts[] {
  return Array.from({ length: 2 ** FLAGS.length }, (_, n) => {
    const facts = { lastReject: null } as Record<string, unknown>;
    FLAGS.forEach((flag, bit) => (facts[flag] = (n >> bit) % 2 === 1));
    return facts as unknown as IdFacts;
  });
}

describe('"missing", defined once', () => {
  it("both engines' missing-ids queries take their condition from the rules' definition, none of their own", () => {
    for (const [engine, name, file] of [
      ['duckdb', 'missing-ids', 'queries/duckdb/missing-ids.sql'],
      ['bigquery', 'engine/missing-ids', 'queries/bigquery/engine/missing-ids.sql'],
    ] as const) {
      const raw = readFileSync(file, 'utf8');
      const sql = raw.replace(/^--.*$/gm, '');
      expect(sql).toContain('{{missing}}');
      expect(sql).not.toMatch(/\bin_final\b/);
      expect(sql).not.toMatch(/\baccepted\b/);
      expect(() => loadQuery(engine, name, { id_facts: 't' })).toThrow('no value for {{missing}}');
    }
    expect(missingSql()).toBe('(accepted AND NOT in_final)');
    expect(missingSql('f.')).toBe('(f.accepted AND NOT f.in_final)');
  });

  it('DuckDB reads the rendered condition as the rule does, on every combination of flags', async () => {
    const combos = everyCombination();
    const columns = FLAGS.map(factColumn);
    const values = combos
      .map((f, i) => `(${i}, ${FLAGS.map((flag) => (f[flag] ? 'true' : 'false')).join(', ')})`)
      .join(',\n');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      await db.run(`CREATE TABLE id_facts AS SELECT * FROM (VALUES ${values}) t(i, ${columns.join(', ')})`);
      const reader = await db.runAndReadAll(`SELECT i FROM id_facts WHERE ${missingSql()} ORDER BY i`);
      const bySql = reader.getRowsJS().map(([i]) => Number(i));
      const byRule = combos.flatMap((f, i) => (meets(MISSING, f) ? [i] : []));
      expect(byRule.length).toBeGreaterThan(0);
      expect(bySql).toEqual(byRule);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });

  it('an id read back from the missing-ids queries meets the definition, whatever else its row says', () => {
    for (const [unroutable, kafkaKnown, inKafka, inFlight, inGcs] of everyCombination().map((f) => [
      f.unroutable,
      f.kafkaKnown,
      f.inKafka,
      f.inFlight,
      f.inGcs,
    ])) {
      const read = rowsOf.missingId('US', 'r=1', unroutable, kafkaKnown, inKafka, inFlight, inGcs);
      expect(meets(MISSING, read.facts)).toBe(true);
    }
  });
});
