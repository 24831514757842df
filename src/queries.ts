import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module that holds `queries/`, from src/ or dist/src/. */
function findQueriesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'queries');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('queries/ folder not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

const cache = new Map<string, string>();

/** A SQL file from queries/<engine>/ as it is, its `{{name}}` identifiers unfilled (read once). */
export function loadQueryText(engine: string, name: string): string {
  const key = `${engine}/${name}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = readFileSync(path.join(findQueriesDir(), engine, `${name}.sql`), 'utf8');
    cache.set(key, text);
  }
  return text;
}

/**
 * A SQL file from queries/<engine>/, with `{{name}}` identifiers filled in. Identifiers must come
 * from validated sources (table names are constants, field paths pass record-columns.ts); values
 * always go through named parameters instead.
 */
export function loadQuery(engine: string, name: string, identifiers: Record<string, string> = {}): string {
  const key = `${engine}/${name}`;
  return loadQueryText(engine, name).replace(/\{\{(\w+)\}\}/g, (_, id: string) => {
    const value = identifiers[id];
    if (value === undefined) throw new Error(`query ${key}: no value for {{${id}}}`);
    return value;
  });
}

/**
 * A SQL file that is part of others (filled in as one of their `{{name}}`s), without its comment lines: one text
 * for the statements that share it, as engine/zoned.sql is.
 */
export function loadFragment(engine: string, name: string, identifiers: Record<string, string> = {}): string {
  return loadQuery(engine, name, identifiers)
    .replace(/^\s*--.*\n/gm, '')
    .trim();
}
