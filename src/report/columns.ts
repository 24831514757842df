/**
 * The parity report's columns, in order: the contract's first (never renamed or reordered), then
 * ours. `doc` is the definition the README quotes.
 */
export const PARITY_COLUMNS = [
  ['date', 'the day, in the configured time zone'],
  [
    'site',
    'a configured site, UNKNOWN (header missing or naming no configured site), or ALL (the sum of the rows above)',
  ],
  ['proxy_requests', 'proxy access-log lines of the day'],
  ['proxy_accepted', 'lines with a 2xx status'],
  ['rejected_413', 'lines with status 413 (body over the proxy limit)'],
  ['rejected_502', 'lines with status 502 (upstream failure)'],
  ['rejected_other', 'every other non-2xx line'],
  ['kafka_records', 'messages in all configured Kafka clusters (empty: tier not configured)'],
  ['gcs_records', 'records landed in the gcs tier'],
  ['gcs_distinct', 'distinct request_ids landed in the gcs tier'],
  ['bq_rows', 'rows in BigQuery with a request_id (empty: tier not configured)'],
  ['bq_distinct', 'distinct request_ids in BigQuery (empty: tier not configured)'],
  ['duplicates', 'final-tier records − final-tier distinct request_ids'],
  [
    'unexplained',
    'final-tier distinct − accepted distinct, a net figure (= landed_not_accepted − missing): negative when more accepted ids never landed than landed unaccepted; a loss can hide in it, never in parity_pct',
  ],
  [
    'parity_pct',
    '100 × accepted ids the final tier holds ÷ accepted distinct = 100 × (accepted_distinct − missing) ÷ accepted_distinct, four decimals; never above 100; empty when nothing was accepted',
  ],
  [
    'status',
    "ERROR when a tier could not be read; NO_DATA when a configured site's proxy holds nothing, or a configured tier holds nothing while the proxy accepted ids; FAIL below failPct; WARN below warnPct, landed_not_accepted above landedNotAcceptedPct, a volume_drop, or data on one side only; else PASS",
  ],
  [
    'proxy_malformed',
    'proxy lines that are not JSON or lack a usable timestamp, request_id or status (day of the folder they lie in)',
  ],
  [
    'gcs_malformed',
    'landed lines that are not JSON or lack a usable timestamp or request_id (day of the folder they lie in)',
  ],
  ['late_arrivals', 'landed records of the day found in a folder dated after their own UTC date'],
  ['proxy_distinct', 'distinct request_ids in the proxy log'],
  ['accepted_distinct', 'distinct request_ids with at least one 2xx line'],
  ['retry_recovered', 'accepted ids that also have a rejected line: a retry that succeeded, not a loss'],
  ['lost_413', 'ids never accepted whose last status was 413'],
  ['lost_502', 'ids never accepted whose last status was 502'],
  ['lost_other', 'ids never accepted whose last status was another non-2xx'],
  ['missing', 'accepted ids the final tier lacks (the rows of missing-DATE.csv)'],
  ['unknown_site', 'missing ids whose site header named no configured site: dropped by every sink filter'],
  ['missing_unexplained', 'missing ids no cause explains'],
  ['landed_not_accepted', 'final-tier ids the proxy did not accept that day'],
  ['landed_after_reject', 'landed ids whose every proxy line was rejected (the backend processed the request anyway)'],
  ['landed_without_proxy', 'landed ids with no proxy line that day'],
  [
    'proxy_out_of_window',
    "proxy records in this day's folder whose own date that folder cannot hold (counted in no day)",
  ],
  [
    'gcs_out_of_window',
    "landed records in this day's folder whose own date that folder cannot hold (counted in no day)",
  ],
  ['error', 'for ERROR rows: the tier and the object that could not be read'],
  ['cross_region_duplicates', 'ids found in both regional Kafka clusters (fallback or replay): not loss'],
  ['unroutable', 'ids in Kafka whose site header is present but names no configured site: the sink filters drop them'],
  ['lost_before_kafka', 'missing ids in no Kafka cluster: lost between the proxy and Kafka'],
  ['in_flight', "missing ids still in Kafka beyond the sink group's committed offset: published, not yet written"],
  ['kafka_malformed', 'Kafka messages of the day with no usable request id'],
  [
    'kafka_offset_records',
    'ALL row: messages of the day from offsets alone (the fast path), beside the exact kafka_records',
  ],
  ['bq_malformed', 'BigQuery rows of the day with no request_id'],
  [
    'status_reason',
    'why the status is what it is, every finding that applies, the deciding one first (empty for a plain PASS)',
  ],
  [
    'volume_drop',
    'tier counts below thresholds.volumeDropPct % of their median over earlier days: column, count and median',
  ],
] as const satisfies readonly (readonly [string, string])[];

export type ParityColumn = (typeof PARITY_COLUMNS)[number][0];
/** The fixed columns, then one `kafka_<region>` per configured cluster, in config order. */
export type ParityRow = Record<ParityColumn, string | number | null> & {
  regions?: Record<string, number | string | null>;
};
export const PARITY_HEADER: readonly ParityColumn[] = PARITY_COLUMNS.map(([name]) => name);

/** The column of one Kafka cluster's message count: `kafka_eus2`. */
export function regionColumn(region: string): string {
  return `kafka_${region.toLowerCase()}`;
}

export const MISSING_HEADER = ['date', 'site', 'request_id', 'last_tier', 'cause'] as const;
