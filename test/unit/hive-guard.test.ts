/**
 * Every DuckDB read of paths turns Hive partitioning off: with it on (DuckDB's default for a path holding
 * `key=value` folders), a folder named site=US/ replaces each line's own site (test/cli/hive-paths.test.ts).
 * DuckDB has no setting for a whole connection, so each call must say it: this finds one that does not.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../support/files.js';

const READER = /\bread_(ndjson|csv|parquet|json\w*|text|blob)\s*\(/g;

/** The text of a call from its opening parenthesis to the one that closes it. */
function callText(source: string, open: number): string {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return source.slice(open, i + 1);
  }
  return source.slice(open);
}

async function filesBelow(dir: string, ext: RegExp): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && ext.test(e.name)).map((e) => path.join(e.parentPath, e.name));
}

test('every read_ndjson, read_csv and read_parquet call of the engine says hive_partitioning = false', async () => {
  const files = [...(await filesBelow('queries/duckdb', /\.sql$/)), ...(await filesBelow('src', /\.ts$/))];
  const calls: string[] = [];
  const without: string[] = [];
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(READER)) {
      const line = source.slice(source.lastIndexOf('\n', m.index) + 1, m.index);
      // Prose that names a reader is no call: a comment line, or an SQL comment before it on its line.
      if (/^\s*(--|\*|\/\/|\/\*)/.test(line) || /--\s/.test(line)) continue;
      const where = `${path.relative(ROOT, file)}: ${m[0]}`;
      calls.push(where);
      if (!/hive_partitioning\s*=\s*false/.test(callText(source, m.index + m[0].length - 1))) without.push(where);
    }
  }
  expect(without).toEqual([]);
  // The guard sees the readers it guards: the line readers, the line check's, the cache's.
  expect(calls.length).toBeGreaterThanOrEqual(8);
});
