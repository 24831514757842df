import type { Config } from '../config.js';
import type { CountingEngine } from './engine.js';

/**
 * The configured counting engine: embedded DuckDB (spilling to `tempDirectory` past its memory
 * limit), or BigQuery (scratch tables in engine.dataset; `tempDirectory` holds Kafka's rows until
 * their load job). Loaded lazily, so a run loads only the client it uses.
 */
export async function openEngine(config: Config, tempDirectory: string): Promise<CountingEngine> {
  const { engine } = config;
  if (engine.kind === 'bigquery') {
    const bq = config.tiers.bigquery;
    if (!bq || !engine.dataset) throw new Error('engine bigquery without tiers.bigquery or engine.dataset (the config refuses this)');
    const { BigqueryEngine } = await import('./bigquery-engine.js');
    return BigqueryEngine.open({
      dataset: engine.dataset,
      jobProject: bq.projectId ?? bq.table.split('.')[0]!,
      ...(bq.location ? { location: bq.location } : {}),
      ...(bq.apiEndpoint ? { apiEndpoint: bq.apiEndpoint } : {}),
      maximumBytesBilled: bq.maximumBytesBilled,
      timezone: config.timezone,
      tempDirectory,
    });
  }
  const { DuckDbEngine } = await import('./duckdb-engine.js');
  return DuckDbEngine.open({ memoryLimit: engine.memoryLimit, ...(engine.threads ? { threads: engine.threads } : {}), tempDirectory });
}
