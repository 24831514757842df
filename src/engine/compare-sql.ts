/**
 * The SQL fragments of `compare` (payloads that changed on the way): each compared field of a record
 * becomes one tag `<i>:<hash>` — i its place in the config's list, hash the first
 * {@link COMPARE_HASH_HEX} hex digits of the md5 of the field's value as text. A value's text is the
 * string itself for a JSON string, and the engine's compact JSON for a number, boolean, object or
 * array, so `"5"` and `5` compare equal; a record with no value there (absent, or JSON null: a
 * BigQuery column cannot tell them apart) has the text `null`, as has the string `"null"`. An id's
 * tags are the distinct tags of all its records (duplicates with equal payloads add nothing), so one
 * field differs between Kafka and the final tier exactly when their sets of that field's hashes
 * differ. Built only from validated paths (the
 * config's compare pattern) and indexes: no value of a record reaches the SQL text.
 */

/** Hex digits of md5 kept per field: 64 bits tell a changed payload with no practical collision. */
export const COMPARE_HASH_HEX = 16;

/** What an engine's queries need of `compare`; `undefined` when it is off. */
export interface CompareSql {
  /** The compared paths, in config order (the fields column of mismatch-DAY.csv names them). */
  paths: readonly string[];
}

const COMPARE_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Checks the paths again where they become SQL (the config checked them first). */
export function compareSqlOf(paths: readonly string[] | undefined): CompareSql | undefined {
  if (!paths || paths.length === 0) return undefined;
  for (const p of paths) if (!COMPARE_PATH.test(p)) throw new Error(`compare path "${p}" is not dotted plain keys`);
  return { paths };
}

/**
 * An integral number as the engine renders a double (`10.0`), and the same text in a string, read as the
 * integer (`10`): a sink that writes an integer into a FLOAT column gives it back so, and it is the same
 * value. Only a lone `.0`: `10.00`, `1.50` and every other text stay as they are, so that a value cut
 * short on the way (`123.40` to `123.4`) is still a change.
 */
const INTEGRAL_DOUBLE = '^-?[0-9]+\\.0$';

/** DuckDB: a value's text `x` (a lambda's parameter), an integral double's `.0` dropped. */
const DUCKDB_CANONICAL = `CASE WHEN regexp_matches(x, '${INTEGRAL_DOUBLE}') THEN left(x, -2) ELSE x END`;

/** The compared paths as a json_transform structure: nested objects, a VARCHAR at each path's end. */
function structureOf(paths: readonly string[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of paths) {
    const segments = p.split('.');
    let level = root;
    segments.forEach((segment, i) => {
      if (i === segments.length - 1) level[segment] = 'VARCHAR';
      else level = (level[segment] ??= {}) as Record<string, unknown>;
    });
  }
  return root;
}

/**
 * DuckDB: one record's tags from `texts`, a list of each field's value as text (NULL: no value). Each text
 * is worked out once, as a list element, however often the tag's expression names it.
 */
function duckdbTags(texts: string): string {
  return (
    `list_transform(${texts}, lambda x, i: (i - 1)::VARCHAR || ':' || ` +
    `substr(md5(coalesce(${DUCKDB_CANONICAL}, 'null')), 1, ${COMPARE_HASH_HEX}))`
  );
}

/**
 * DuckDB, a streamed row: the tags of its `payload` (JSON text); NULL when it has none (no message
 * value, or not JSON), so that it is compared with nothing rather than as every field absent.
 */
export function duckdbPayloadTags(c: CompareSql | undefined): string {
  if (!c) return 'NULL::VARCHAR[]';
  // Read as a file line's compared fields are (read_ndjson's VARCHAR columns), through the same structure:
  // json_extract_string renders a number otherwise (0.00001 where the file side has 1e-05, and 1e16 as
  // 10000000000000000.0), so identical payloads were listed as changed. The payload is parsed once a row.
  const structure = JSON.stringify(structureOf(c.paths));
  const field = (p: string) =>
    `s${p
      .split('.')
      .map((seg) => `['${seg}']`)
      .join('')}`;
  const texts = `list_transform([json_transform(payload, '${structure}')], lambda s: [${c.paths.map(field).join(', ')}])[1]`;
  return `CASE WHEN json_valid(payload) THEN ${duckdbTags(texts)} END`;
}

/** DuckDB, a file line: the tags of the fields read as VARCHAR columns (the text a payload's json_transform gives). */
export function duckdbColumnTags(c: CompareSql | undefined, exprs: readonly string[]): string {
  return c ? duckdbTags(`[${exprs.join(', ')}]`) : 'NULL::VARCHAR[]';
}

/** DuckDB: an id's tags, from its rows' `tags` (a record's) or `hashes` (an aggregate's). */
export function duckdbHashesAgg(c: CompareSql | undefined, column: 'tags' | 'hashes'): string {
  return c ? `list_distinct(flatten(list(${column}) FILTER (WHERE ${column} IS NOT NULL)))` : 'NULL::VARCHAR[]';
}

/** BigQuery: no tags (compare off, or a row without a payload): an empty array, as BigQuery stores no NULL array. */
const BQ_NO_TAGS = 'ARRAY<STRING>[]';

/** BigQuery: a value's text, an integral double's `.0` dropped (as duckdbCanonical). */
function bigqueryCanonical(t: string): string {
  return `CASE WHEN REGEXP_CONTAINS(${t}, r'${INTEGRAL_DOUBLE}') THEN LEFT(${t}, LENGTH(${t}) - 2) ELSE ${t} END`;
}

/** BigQuery: one record's tags from each field's value as text (NULL: no value). */
function bigqueryTags(texts: readonly string[]): string {
  const tags = texts.map(
    (t, i) => `CONCAT('${i}:', SUBSTR(TO_HEX(MD5(IFNULL(${bigqueryCanonical(t)}, 'null'))), 1, ${COMPARE_HASH_HEX}))`,
  );
  return `[${tags.join(', ')}]`;
}

/**
 * BigQuery, a JSON text's value at `jsonPath` as text: a string's own text, else its compact JSON (`null`
 * for null); NULL when absent. (Comparing JSON_QUERY's result with text is what the emulator cannot do.)
 */
function bigqueryJsonText(json: string, jsonPath: string): string {
  const query = `CAST(SAFE.JSON_QUERY(${json}, '${jsonPath}') AS STRING)`;
  return `COALESCE(SAFE.JSON_VALUE(${json}, '${jsonPath}'), ${query})`;
}

/**
 * BigQuery, Kafka's loaded rows: the tags of `payload`; none without one, or when it is not JSON. The pod loads a
 * payload as DuckDB's reader takes it (strictJson: NULL when it takes it not), so no PARSE_JSON decides here:
 * it refused NaN, an infinity or a trailing comma anywhere in a message, and a number past a double's exactness.
 */
export function bigqueryPayloadTags(c: CompareSql | undefined): string {
  if (!c) return BQ_NO_TAGS;
  const tags = bigqueryTags(c.paths.map((p) => bigqueryJsonText('payload', `$.${p}`)));
  return `IF(payload IS NULL, ${BQ_NO_TAGS}, ${tags})`;
}

/** BigQuery, the landed table: the tags of its columns at the paths (`a.b` is column a's field b). */
export function bigqueryColumnTags(c: CompareSql | undefined): string {
  if (!c) return BQ_NO_TAGS;
  const texts = c.paths.map((p) => {
    const column = p
      .split('.')
      .map((s) => `\`${s}\``)
      .join('.');
    return bigqueryJsonText(`TO_JSON_STRING(${column})`, '$');
  });
  return bigqueryTags(texts);
}

/** BigQuery: an id's tags from its rows' tags (duplicates kept: the comparison is of sets). */
export function bigqueryHashesAgg(c: CompareSql | undefined): string {
  return c ? 'ARRAY_CONCAT_AGG(tags)' : BQ_NO_TAGS;
}

type PathTree = Map<string, PathTree | null>;

/**
 * BigQuery, the landed table read by the embedded engine: the compared columns as one JSON text of
 * the same shape as a record (`{"body":{"amount":…},"user":{"id":…}}`), so that the engine reads them
 * with the paths it reads Kafka's values with.
 */
export function bigqueryPayloadJson(c: CompareSql): string {
  const root: PathTree = new Map();
  for (const p of c.paths) {
    const segments = p.split('.');
    let level = root;
    segments.forEach((s, i) => {
      if (i === segments.length - 1) level.set(s, null);
      else {
        const next = level.get(s) ?? new Map();
        level.set(s, next);
        level = next;
      }
    });
  }
  const struct = (tree: PathTree, prefix: string[]): string =>
    `STRUCT(${[...tree]
      .map(([k, sub]) => {
        const at = [...prefix, k];
        return `${sub ? struct(sub, at) : at.map((s) => `\`${s}\``).join('.')} AS \`${k}\``;
      })
      .join(', ')})`;
  return `TO_JSON_STRING(${struct(root, [])})`;
}
