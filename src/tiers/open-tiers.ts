import type { BigqueryClients } from '../bigquery/client.js';
import type { Config } from '../config.js';
import type { HistoryWriter } from '../report/history-writer.js';
import { GcsConnection } from '../storage/index.js';
import type { BigqueryTier } from './bigquery.js';
import type { KafkaTierReader } from './kafka-reader.js';

/** The configured tiers a run reads besides files, and the clients they share; close() when the run is done. */
export interface OpenTiers {
  kafka?: KafkaTierReader;
  /** tiers.bigquery: the landed records, then the final tier. */
  bigquery?: BigqueryTier;
  /** tiers.proxy.bigquery: the proxy's access log as a table. */
  proxyTable?: BigqueryTier;
  /** The writer of tiers.bigquery.history's rows, when configured. */
  history?: HistoryWriter;
  /** The run's BigQuery clients, one per connection, when a table is configured: the engine and history share them. */
  bigqueryClients?: BigqueryClients;
  /** The run's one GCS client, made on first use: shared by the gs:// locations and the --out gs:// upload. */
  gcs: GcsConnection;
  close(): Promise<void>;
}

/**
 * Opens what the config names, in this order: the Kafka tier (credentials from `env`, the variables
 * the config names), the BigQuery landed table, the proxy's table; the two tables share a client
 * when they run their jobs in the same project, location and endpoint. Nothing is connected yet:
 * a bad key fails here as a ConfigError. `only: 'bigquery'` (--dry-run) opens the tables alone.
 */
export async function openTiers(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  options: { only?: 'bigquery' } = {},
): Promise<OpenTiers> {
  const kafka =
    config.tiers.kafka && options.only !== 'bigquery'
      ? (await import('./kafka-tier.js')).createKafkaTier(config.tiers.kafka, env, {
          withPayload: config.compare !== undefined,
        })
      : undefined;
  const tables = [config.tiers.bigquery, config.tiers.proxyBigquery];
  const [bq, clients] = tables.some(Boolean)
    ? await Promise.all([import('./bigquery.js'), import('../bigquery/client.js').then((c) => new c.BigqueryClients())])
    : [];
  type Table = NonNullable<(typeof tables)[number]>;
  const connectionOf = (table: Table) => ({
    ...(table.projectId ? { projectId: table.projectId } : {}),
    ...(table.location ? { location: table.location } : {}),
    ...(table.apiEndpoint ? { apiEndpoint: table.apiEndpoint } : {}),
  });
  // The jobs run in the configured project, else in the table's own (as the tier decides).
  const clientOf = (table: Table) =>
    clients!.clientFor({ projectId: table.table.split('.')[0]!, ...connectionOf(table) });
  const open = (table: Table, kind: 'landed' | 'proxy'): BigqueryTier =>
    bq!.createBigqueryTier(
      {
        kind,
        table: table.table,
        columns: table.columns,
        ...connectionOf(table),
        maximumBytesBilled: table.maximumBytesBilled,
        partitionMarginDays: table.partitionMarginDays,
        ...(kind === 'landed' && config.compare ? { compare: config.compare } : {}),
      },
      clientOf(table),
    );
  const landed = config.tiers.bigquery;
  const bigquery = landed ? open(landed, 'landed') : undefined;
  // The history rows are written with the landed table's connection, in its job project.
  const history =
    landed?.history && options.only !== 'bigquery'
      ? (await import('../report/history-writer.js')).createHistoryWriter(
          {
            projectId: landed.projectId ?? landed.table.split('.')[0]!,
            ...(landed.location ? { location: landed.location } : {}),
            maximumBytesBilled: landed.maximumBytesBilled,
          },
          clientOf(landed),
        )
      : undefined;
  const proxyTable = config.tiers.proxyBigquery ? open(config.tiers.proxyBigquery, 'proxy') : undefined;
  return {
    ...(kafka ? { kafka } : {}),
    ...(bigquery ? { bigquery } : {}),
    ...(proxyTable ? { proxyTable } : {}),
    ...(history ? { history } : {}),
    ...(clients ? { bigqueryClients: clients } : {}),
    gcs: new GcsConnection(config.gcs),
    close: async () => {
      await kafka?.close();
    },
  };
}
