import type { BigqueryClients } from '../bigquery/client.js';
import type { Config } from '../config.js';
import type { CountingEngine } from './engine.js';
import { type EngineMemory, engineMemoryLimit, readContainerMemoryLimit } from './memory.js';

/** The embedded engine's memory limit: engine.memoryLimit, else derived from the container's cgroup limit. */
export async function resolveEngineMemory(config: Config, engines = 1): Promise<EngineMemory> {
  return engineMemoryLimit(
    config.engine.memoryLimit,
    config.engine.memoryLimit ? null : await readContainerMemoryLimit(),
    engines,
  );
}

/**
 * The configured counting engine: embedded DuckDB (spilling to `tempDirectory` past its memory
 * limit), or BigQuery (scratch tables in engine.dataset; `tempDirectory` holds Kafka's rows until
 * their load job). Loaded lazily, so a run loads only the client it uses. `bigqueryClients`: the
 * run's (the tiers' and the history writer's), so that the engine runs its jobs on the same client.
 */
export async function openEngine(
  config: Config,
  tempDirectory: string,
  memory?: EngineMemory,
  bigqueryClients?: BigqueryClients,
): Promise<CountingEngine> {
  const { engine } = config;
  if (engine.kind === 'bigquery') {
    const bq = config.tiers.bigquery;
    if (!bq || !engine.dataset)
      throw new Error('engine bigquery without tiers.bigquery or engine.dataset (the config refuses this)');
    const { BigqueryEngine } = await import('./bigquery-engine.js');
    // The landed table's connection: its tier runs its jobs on the same client.
    const connection = {
      projectId: bq.projectId ?? bq.table.split('.')[0]!,
      ...(bq.location ? { location: bq.location } : {}),
      ...(bq.apiEndpoint ? { apiEndpoint: bq.apiEndpoint } : {}),
    };
    return BigqueryEngine.open(
      {
        dataset: engine.dataset,
        jobProject: connection.projectId,
        ...(bq.location ? { location: bq.location } : {}),
        ...(bq.apiEndpoint ? { apiEndpoint: bq.apiEndpoint } : {}),
        maximumBytesBilled: bq.maximumBytesBilled,
        timezone: config.timezone,
        tempDirectory,
        ...(config.compare ? { compare: config.compare } : {}),
      },
      bigqueryClients?.clientFor(connection),
    );
  }
  const { DuckDbEngine } = await import('./duckdb-engine.js');
  const memoryLimit = (memory ?? (await resolveEngineMemory(config))).limit;
  return DuckDbEngine.open({
    memoryLimit,
    ...(engine.threads ? { threads: engine.threads } : {}),
    tempDirectory,
    ...(config.compare ? { compare: config.compare } : {}),
  });
}
