import type { BigqueryClients } from '../src/bigquery/client.js';
import type { Config } from '../src/config.js';
import { dayWindow } from '../src/dates.js';
import type { DayKey } from '../src/domain.js';
import { UsageError } from '../src/errors.js';
import type { BigqueryTier } from '../src/tiers/bigquery.js';
import { openTiers } from '../src/tiers/open-tiers.js';
import { daySpan } from '../src/site-zones.js';

export interface PlannedQuery {
  /** The config key of the table the query reads. */
  table: string;
  days: { first: DayKey; last: DayKey };
  sql: string;
  params: Record<string, unknown>;
  /** BigQuery's dry-run estimate of the bytes processed. */
  bytes: number;
}

export interface DryRunRequest {
  config: Config;
  days: DayKey[];
  proxyTable?: BigqueryTier;
  bigquery?: BigqueryTier;
  /** The clients the tables were opened on: engine bigquery plans on them too. */
  bigqueryClients?: BigqueryClients;
}

/**
 * `reconcile --dry-run`: every query that reads a configured BigQuery table, per batch of days, as
 * the run would send it (the embedded engine's row reads, or the bigquery engine's aggregations
 * into its scratch tables), with BigQuery's estimate of its bytes. Nothing is read or written; a
 * missing table, dataset or permission fails here as it would in the run.
 */
export async function planQueries(req: DryRunRequest): Promise<PlannedQuery[]> {
  const { config, days } = req;
  const tables = [
    ...(req.proxyTable ? [{ tier: 'proxy' as const, key: 'tiers.proxy.bigquery', reader: req.proxyTable }] : []),
    ...(req.bigquery ? [{ tier: 'bigquery' as const, key: 'tiers.bigquery', reader: req.bigquery }] : []),
  ];
  if (tables.length === 0)
    throw new UsageError(
      '--dry-run',
      'no BigQuery table is configured (tiers.proxy.bigquery, tiers.bigquery): nothing to estimate',
    );
  const engine = config.engine.kind === 'bigquery' ? await openScratchlessEngine(config, req.bigqueryClients) : null;
  const out: PlannedQuery[] = [];
  try {
    for (let i = 0; i < days.length; i += config.engine.batchDays) {
      const batch = days.slice(i, i + config.engine.batchDays);
      const windows = batch.map((d) => dayWindow(d, config.timezone));
      // Every site's day: from the first day's earliest midnight to the last day's latest, in any site's zone.
      const [startMs, endMs] = [daySpan(batch[0]!, config).startMs, daySpan(batch.at(-1)!, config).endMs];
      await engine?.setWindows(windows, config);
      for (const t of tables) {
        const plan = engine
          ? await engine.dryRunTable(t.tier, t.reader, startMs, endMs, config.sites)
          : await t.reader.dryRun(startMs, endMs, batch);
        out.push({ table: t.key, days: { first: batch[0]!, last: batch.at(-1)! }, ...plan });
      }
    }
  } finally {
    await engine?.close();
  }
  return out;
}

async function openScratchlessEngine(config: Config, clients: BigqueryClients | undefined) {
  const [{ openEngine }, { BigqueryEngine }, os] = await Promise.all([
    import('../src/engine/open.js'),
    import('../src/engine/bigquery-engine.js'),
    import('node:os'),
  ]);
  const engine = await openEngine(config, os.tmpdir(), undefined, clients);
  if (!(engine instanceof BigqueryEngine)) throw new Error('engine bigquery expected');
  return engine;
}

/** `reconcile --dry-run`: the configured tables, opened as a run opens them, and the plan of their queries as text. */
export async function runDryRun(
  config: Config,
  days: DayKey[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const { bigquery, proxyTable, bigqueryClients } = await openTiers(config, env, { only: 'bigquery' });
  const plans = await planQueries({
    config,
    days,
    ...(bigquery ? { bigquery } : {}),
    ...(proxyTable ? { proxyTable } : {}),
    ...(bigqueryClients ? { bigqueryClients } : {}),
  });
  return renderPlan(plans, config.engine.kind);
}

/** The plan as --dry-run prints it: each query, its parameters and its estimate. */
export function renderPlan(plans: readonly PlannedQuery[], engineKind: string): string {
  const lines = plans.map(
    (p) =>
      `-- ${p.table}, ${p.days.first}..${p.days.last}: ${p.bytes} bytes estimated\n${p.sql.trim()}\n` +
      `-- parameters: ${JSON.stringify(p.params)}\n`,
  );
  if (engineKind === 'bigquery') {
    lines.push(
      '-- engine bigquery: then the joins, counts and missing list run over the scratch tables above ' +
        '(their bytes only).\n',
    );
  }
  return lines.join('\n');
}
