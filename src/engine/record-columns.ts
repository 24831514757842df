import type { RecordFields } from '../config.js';
import { ConfigError } from '../errors.js';

/** Field paths become DuckDB identifiers: this is the only pattern allowed through. */
const SEGMENT = /^[A-Za-z0-9_@$-]+$/;

type Node = { leaf: true } | { leaf: false; children: Map<string, Node> };

export interface RecordColumns {
  /** The `columns` struct literal of read_ndjson: only the fields the job reads, so the rest of a line is skipped. */
  columns: string;
  /**
   * The same shape as json_transform's structure literal: what one line, parsed on its own, gives the
   * same columns as (src/engine/line-check.ts).
   */
  structure: string;
  /** One SQL expression per field, reading it from those columns. */
  expr: Record<keyof RecordFields, string>;
  /** One SQL expression per `extra` path (the compared fields), in their order. */
  extraExpr: string[];
}

const quoteIdent = (s: string): string => `"${s}"`;
const quoteString = (s: string): string => `'${s}'`;

/**
 * Builds the read_ndjson column spec and field expressions from validated field paths.
 * `configPath` names the `fields` key in messages; `extra`: more paths read as values (the compared
 * fields, named `compare[i]`), which may coincide with a field's path. Pure.
 */
export function buildRecordColumns(
  fields: RecordFields,
  configPath: string,
  extra: readonly string[] = [],
): RecordColumns {
  const root = new Map<string, Node>();
  const named: [string, string][] = [
    ...Object.entries(fields).map(([name, dotted]): [string, string] => [`${configPath}.${name}`, dotted]),
    ...extra.map((dotted, i): [string, string] => [`compare[${i}]`, dotted]),
  ];
  for (const [key, dotted] of named) {
    const segments = dotted.split('.');
    if (!segments.every((s) => SEGMENT.test(s))) throw new ConfigError(key, `"${dotted}" is not a dotted field path`);
    let level = root;
    segments.forEach((segment, i) => {
      const last = i === segments.length - 1;
      const existing = level.get(segment);
      if (last) {
        if (existing && !existing.leaf)
          throw new ConfigError(key, `"${dotted}" is both a value and an object in another field path`);
        level.set(segment, { leaf: true });
      } else {
        if (existing?.leaf) throw new ConfigError(key, `"${dotted}" goes inside a field another path reads as a value`);
        const node: Node = existing ?? { leaf: false, children: new Map() };
        level.set(segment, node);
        if (!node.leaf) level = node.children;
      }
    });
  }
  const typeOf = (node: Node): string =>
    node.leaf ? 'VARCHAR' : `STRUCT(${[...node.children].map(([k, v]) => `${quoteIdent(k)} ${typeOf(v)}`).join(', ')})`;
  const columns = `{${[...root].map(([k, v]) => `${quoteString(k)}: ${quoteString(typeOf(v))}`).join(', ')}}`;
  // Segments are checked above (no quote can occur in them), so the JSON text is a safe SQL string.
  const shapeOf = (node: Node): unknown =>
    node.leaf ? 'VARCHAR' : Object.fromEntries([...node.children].map(([k, v]) => [k, shapeOf(v)]));
  const structure = quoteString(JSON.stringify(Object.fromEntries([...root].map(([k, v]) => [k, shapeOf(v)]))));
  const exprFor = (dotted: string): string => {
    const [head, ...rest] = dotted.split('.');
    return [quoteIdent(head!), ...rest.map((s) => `[${quoteString(s)}]`)].join('');
  };
  return {
    columns,
    structure,
    expr: {
      timestamp: exprFor(fields.timestamp),
      request_id: exprFor(fields.request_id),
      site: exprFor(fields.site),
      status: exprFor(fields.status),
      region: exprFor(fields.region),
    },
    extraExpr: extra.map(exprFor),
  };
}

/** The fields' default paths: what an empty tier's table is shaped by. */
export const DEFAULT_FIELDS: RecordFields = {
  timestamp: 'timestamp',
  request_id: 'request_id',
  site: 'site',
  status: 'status',
  region: 'region',
};
