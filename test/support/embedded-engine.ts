import path from 'node:path';
import { DuckDbEngine } from '../../src/engine/duckdb-engine.js';

/** The embedded engine as the tests open it: small and single-threaded, spilling under `dir`/spill. */
export function openEmbeddedEngine(dir: string, compare?: readonly string[]): Promise<DuckDbEngine> {
  return DuckDbEngine.open({
    memoryLimit: '256MB',
    threads: 1,
    tempDirectory: path.join(dir, 'spill'),
    ...(compare ? { compare } : {}),
  });
}
