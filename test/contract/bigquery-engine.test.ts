import { rm } from 'node:fs/promises';
import { dayOf } from '../../src/dates.js';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { BigqueryEngine } from '../../src/engine/bigquery-engine.js';
import { createBigqueryTier } from '../../src/tiers/bigquery.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS, startBqEmulator } from '../support/bq-emulator.js';
import { createDataset, LANDED_SCHEMA, loadTable, PROXY_SCHEMA } from '../support/bq-tables.js';
import { tempDir } from '../support/files.js';
import { engineContract, FINAL, PROXY, ZONE, ZONED_FINAL, ZONED_PROXY } from './engine-contract.js';

const PROJECT = 'parity-contract';
const BYTES = '10737418240';

// The BigQuery engine aggregates tables where they are: the fixture's tables are loaded into the
// emulator (startBqEmulator fails, never skips, when the emulator cannot be installed or started).
engineContract(
  'BigQuery on goccy/bigquery-emulator',
  async () => {
    const emu = await startBqEmulator(PROJECT);
    const dir = await tempDir('parity-engine-contract-');
    try {
      const bq = createBigqueryClient({ projectId: PROJECT, apiEndpoint: emu.endpoint });
      const data = await createDataset(bq, 'audit');
      await createDataset(bq, 'scratch');
      const iso = (ms: number) => new Date(ms).toISOString();
      await loadTable(
        data,
        'proxy',
        PROXY_SCHEMA,
        [...PROXY, ...ZONED_PROXY].map((l) => ({
          ts: iso(l.ts),
          request_id: l.requestId,
          site: l.site,
          status: l.status,
          dt: dayOf(l.ts, 'UTC'),
        })),
      );
      await loadTable(
        data,
        'landed',
        LANDED_SCHEMA,
        [...FINAL, ...ZONED_FINAL].map((l) => ({
          ts: iso(l.ts),
          request_id: l.requestId,
          site: l.site,
          dt: dayOf(l.ts, 'UTC'),
        })),
      );
      const reader = (kind: 'proxy' | 'landed') =>
        createBigqueryTier(
          {
            kind,
            table: `${PROJECT}.audit.${kind}`,
            columns: {
              timestamp: 'ts',
              request_id: 'request_id',
              site: 'site',
              partition: 'dt',
              ...(kind === 'proxy' ? { status: 'status' } : {}),
            },
            maximumBytesBilled: BYTES,
            partitionMarginDays: 1,
          },
          bq,
        );
      const engine = await BigqueryEngine.open(
        {
          dataset: `${PROJECT}.scratch`,
          jobProject: PROJECT,
          apiEndpoint: emu.endpoint,
          maximumBytesBilled: BYTES,
          timezone: ZONE,
          tempDirectory: dir,
        },
        bq,
      );
      return {
        engine,
        proxy: reader('proxy'),
        final: reader('landed'),
        close: async () => {
          await emu.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (e) {
      await emu.stop();
      throw e;
    }
  },
  BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000,
);
