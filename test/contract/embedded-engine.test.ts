import path from 'node:path';
import { rm } from 'node:fs/promises';
import { DuckDbEngine } from '../../src/engine/duckdb-engine.js';
import { tempDir } from '../support/files.js';
import { engineContract, finalRows, memoryTable, proxyRows } from './engine-contract.js';

// The embedded engine streams a table's rows in: the fixture's tables are served from memory.
engineContract('embedded DuckDB', async () => {
  const dir = await tempDir('parity-engine-contract-');
  const engine = await DuckDbEngine.open({ memoryLimit: '256MB', threads: 1, tempDirectory: path.join(dir, 'spill') });
  return {
    engine,
    proxy: memoryTable(proxyRows()),
    final: memoryTable(finalRows()),
    close: () => rm(dir, { recursive: true, force: true }),
  };
});
