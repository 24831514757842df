import type { BigqueryTableSpec } from '../domain.js';
import { ConfigError } from '../errors.js';

/**
 * BigQuery's identifier rules, written once: the config validates with them, the tier, the engine
 * and the history writer parse with them. Names that pass become backquoted identifiers in SQL.
 */
const PROJECT_ID = '[a-z][a-z0-9-]{4,61}[a-z0-9]';
const DATASET_ID = '[A-Za-z0-9_]{1,1024}';
const TABLE_ID = '[A-Za-z0-9_-]{1,1024}';

/** `project.dataset.table`: a lower-case project id; dataset and table of letters, digits, _ (a table's may hold -). */
export const BQ_TABLE = new RegExp(`^(${PROJECT_ID})\\.(${DATASET_ID})\\.(${TABLE_ID})$`);
/** What a table or dataset name must be, said where one is refused (the form alone said not what was wrong). */
export const TABLE_FORM =
  'not project.dataset.table: a lower-case project id (6 to 63 letters, digits and -), then a dataset of letters, ' +
  'digits and _, then a table of letters, digits, _ and -, joined by dots';
export const DATASET_FORM =
  'not project.dataset: a lower-case project id (6 to 63 letters, digits and -), then a dataset of letters, digits ' +
  'and _, joined by a dot';

/** A project id alone (tiers.bigquery.projectId). */
export const BQ_PROJECT = new RegExp(`^${PROJECT_ID}$`);
/** `project.dataset`: where the bigquery engine keeps its scratch tables. */
export const BQ_DATASET = new RegExp(`^(${PROJECT_ID})\\.(${DATASET_ID})$`);
/** A column name: letters, digits and _, not starting with a digit. */
export const BQ_COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;

export interface TableRef {
  name: string;
  project: string;
  dataset: string;
  tableId: string;
  /** `project.dataset.table`, backquoted for SQL. */
  sql: string;
}

/** `table` split into its parts; a ConfigError naming `path` when it is not project.dataset.table. */
export function parseTable(table: string, path: string): TableRef {
  const m = BQ_TABLE.exec(table);
  if (!m)
    throw new ConfigError(
      path,
      `"${table}" is not project.dataset.table (lower-case project id, dataset and table of letters, digits and _)`,
    );
  return { name: table, project: m[1]!, dataset: m[2]!, tableId: m[3]!, sql: quote(table) };
}

/** `project.dataset` split into its parts; undefined when it is not one. */
export function parseDataset(dataset: string): { project: string; dataset: string } | undefined {
  const m = BQ_DATASET.exec(dataset);
  return m ? { project: m[1]!, dataset: m[2]! } : undefined;
}

/** Each column name a BigQuery column name, else a ConfigError naming `${path}.${key}`. */
export function assertColumnNames(columns: Record<string, string | undefined>, path: string): void {
  for (const [key, column] of Object.entries(columns)) {
    if (column !== undefined && !BQ_COLUMN.test(column))
      throw new ConfigError(`${path}.${key}`, `"${column}" is not a BigQuery column name`);
  }
}

/** A validated name as a SQL identifier. */
export const quote = (identifier: string): string => `\`${identifier}\``;

/** The {{…}} identifiers of a table's queries: the table and its columns, validated and backquoted. */
export function tableIdentifiers(table: TableRef, columns: BigqueryTableSpec['columns']): Record<string, string> {
  return {
    table: table.sql,
    ts: quote(columns.timestamp),
    request_id: quote(columns.request_id),
    site: quote(columns.site),
    partition: quote(columns.partition),
    ...(columns.status ? { status: quote(columns.status) } : {}),
  };
}
