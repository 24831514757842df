/**
 * engine: bigquery with the landed data as an EXTERNAL table over the sink's GCS prefixes
 * (fake-gcs-server behind goccy/bigquery-emulator): the reports are the same, byte for byte, as
 * with the landed records loaded into a native table.
 *
 * The emulator's external tables differ from BigQuery's (notes/bq-emulator.md): they are loaded
 * once, at creation; hive partitioning is ignored, so the partition column `dt` must be a field of
 * every line here (BigQuery takes it from the dt=YYYY-MM-DD/ prefix); timestamps must be ISO text.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runReconcile } from '../../jobs/reconcile.js';
import { parseConfig } from '../../src/config.js';
import { daysInRange } from '../../src/dates.js';
import { DEFAULT_MIX, type LandedCopy, type ProxyLine, ScenarioGenerator } from '../../src/demo/generator.js';
import { writeScenario } from '../../src/demo/write-scenario.js';
import { type EmulatorCase, sinkTableTier, startEngineEmulator } from '../support/bq-engine-case.js';
import { BQ_EMULATOR_INSTALL_TIMEOUT_MS } from '../support/bq-emulator.js';
import { LANDED_SCHEMA, landedRow, loadTable, PROXY_SCHEMA, proxyRow } from '../support/bq-tables.js';
import { type FakeGcs, startFakeGcs } from '../support/fake-gcs.js';
import { parseCsv, tempDir } from '../support/files.js';

const PROJECT = 'parity-bq-external';
const BUCKET = 'audit-api-logs-landed';
const DAYS = daysInRange('2025-03-08', '2025-03-09');
const ZONE = 'America/Chicago';

describe('engine bigquery over an external landed table', () => {
  let gcs: FakeGcs | undefined;
  let bqCase: EmulatorCase | undefined;
  afterAll(async () => {
    await bqCase?.stop();
    await gcs?.stop();
  });

  test(
    'an external table over the dt={date}/ prefixes counts as the same records loaded natively',
    async () => {
      const dir = await tempDir();
      const gen = new ScenarioGenerator({
        seed: 77,
        days: DAYS,
        timezone: ZONE,
        sites: ['US', 'CA', 'MX'],
        eventsPerDay: 300,
        mix: DEFAULT_MIX,
        malformedPerDay: 0,
        regions: ['EUS2', 'SCUS'],
      });
      const proxy: ProxyLine[] = [];
      const landed: LandedCopy[] = [];
      await writeScenario(gen, path.join(dir, 'files'), {
        onProxy: (l) => void proxy.push(...l),
        onLanded: (c) => void landed.push(...c),
      });

      // The sink's layout: one object per folder date, under dt=YYYY-MM-DD/.
      const data = path.join(dir, 'gcs');
      const byFolder = new Map<string, string[]>();
      for (const c of landed)
        byFolder.set(c.folderDay, [...(byFolder.get(c.folderDay) ?? []), JSON.stringify(landedRow(c))]);
      for (const [folder, lines] of byFolder) {
        await mkdir(path.join(data, BUCKET, `dt=${folder}`), { recursive: true });
        await writeFile(path.join(data, BUCKET, `dt=${folder}`, 'part-0000.jsonl'), lines.join('\n') + '\n');
      }
      gcs = await startFakeGcs({ dataDir: data });
      bqCase = await startEngineEmulator(PROJECT, { storageEmulatorHost: gcs.endpoint });
      const { audit, emu } = bqCase;
      await loadTable(audit, 'proxy', PROXY_SCHEMA, proxy.map(proxyRow));
      await loadTable(audit, 'landed', LANDED_SCHEMA, landed.map(landedRow));
      await audit.createTable('landed_ext', {
        externalDataConfiguration: {
          sourceFormat: 'NEWLINE_DELIMITED_JSON',
          sourceUris: [`gs://${BUCKET}/*.jsonl`],
          schema: { fields: LANDED_SCHEMA },
        },
      });
      const [md] = await audit.table('landed_ext').getMetadata();
      expect(md.type).toBe('EXTERNAL');

      const outs: string[] = [];
      for (const landedTable of ['landed', 'landed_ext']) {
        const config = parseConfig(
          {
            timezone: ZONE,
            tiers: {
              proxy: { bigquery: { table: `${PROJECT}.audit.proxy`, columns: { timestamp: 'ts' } } },
              bigquery: {
                table: `${PROJECT}.audit.${landedTable}`,
                columns: { timestamp: 'ts' },
                apiEndpoint: emu.endpoint,
              },
            },
            engine: { kind: 'bigquery', dataset: `${PROJECT}.scratch` },
          },
          dir,
        );
        const tier = (kind: 'proxy' | 'landed', table: string) =>
          sinkTableTier(kind, table, { apiEndpoint: emu.endpoint });
        const out = path.join(dir, `out-${landedTable}`);
        const result = await runReconcile({
          config,
          days: DAYS,
          outDir: out,
          proxyTable: tier('proxy', `${PROJECT}.audit.proxy`),
          bigquery: tier('landed', `${PROJECT}.audit.${landedTable}`),
        });
        expect(result.errors).toEqual([]);
        outs.push(out);
      }
      for (const day of DAYS) {
        for (const file of [`parity-${day}.csv`, `missing-${day}.csv`]) {
          const [native, external] = await Promise.all(outs.map((o) => readFile(path.join(o, file), 'utf8')));
          expect({ file, text: external }).toEqual({ file, text: native });
        }
        const all = parseCsv(await readFile(path.join(outs[1]!, `parity-${day}.csv`), 'utf8')).find(
          (r) => r.site === 'ALL',
        )!;
        expect(Number(all.bq_rows)).toBeGreaterThan(0);
      }
    },
    BQ_EMULATOR_INSTALL_TIMEOUT_MS + 180_000,
  );
});
