import { ConfigError } from '../errors.js';

/**
 * The history table is the job's own: written by MERGE (a day's rows replaced) and widened by the columns
 * it adds. Named as one of the audited tables by mistake, it would take the report's columns and lose that
 * day's events. Refused with the config, before anything is read. Names compare without case (a BigQuery
 * project id has none, and a table differing only in case is a slip worth a word). Pure.
 */
export function checkHistoryTable(
  history: string | undefined,
  audited: readonly { key: string; table: string | undefined }[],
): void {
  if (history === undefined) return;
  const same = audited.find((a) => a.table !== undefined && a.table.toLowerCase() === history.toLowerCase());
  if (same)
    throw new ConfigError(
      'tiers.bigquery.history.table',
      `"${history}" is the table the job audits (${same.key}): the history needs a table of its own, since ` +
        'each run replaces its days there and adds its columns',
    );
}
