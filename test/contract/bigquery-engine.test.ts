import { dayOf } from '../../src/dates.js';
import { startEngineEmulator } from '../support/bq-engine-case.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS } from '../support/bq-emulator.js';
import { LANDED_SCHEMA, loadTable, PROXY_SCHEMA } from '../support/bq-tables.js';
import { engineContract, FINAL, PROXY, ZONE, ZONED_FINAL, ZONED_PROXY } from './engine-contract.js';

const PROJECT = 'parity-contract';

// The BigQuery engine aggregates tables where they are: the fixture's tables are loaded into the
// emulator (startBqEmulator fails, never skips, when the emulator cannot be installed or started).
engineContract(
  'BigQuery on goccy/bigquery-emulator',
  async () => {
    const c = await startEngineEmulator(PROJECT, { dirPrefix: 'parity-engine-contract-' });
    try {
      const iso = (ms: number) => new Date(ms).toISOString();
      await loadTable(
        c.audit,
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
        c.audit,
        'landed',
        LANDED_SCHEMA,
        [...FINAL, ...ZONED_FINAL].map((l) => ({
          ts: iso(l.ts),
          request_id: l.requestId,
          site: l.site,
          dt: dayOf(l.ts, 'UTC'),
        })),
      );
      return {
        engine: await c.openEngine({ timezone: ZONE }),
        proxy: c.tier('proxy', 'proxy'),
        final: c.tier('landed', 'landed'),
        close: c.stop,
      };
    } catch (e) {
      await c.stop();
      throw e;
    }
  },
  BQ_EMULATOR_INSTALL_TIMEOUT_MS + 120_000,
);
