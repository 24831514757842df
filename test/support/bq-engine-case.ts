import { rm } from 'node:fs/promises';
import type { BigQuery, Dataset, TableField } from '@google-cloud/bigquery';
import { createBigqueryClient } from '../../src/bigquery/client.js';
import { BigqueryEngine } from '../../src/engine/bigquery-engine.js';
import { type BigqueryTier, createBigqueryTier } from '../../src/tiers/bigquery.js';
import { type BqEmulator, startBqEmulator, type StartBqEmulatorOptions } from './bq-emulator.js';
import { createDataset, LANDED_SCHEMA, type TableRow } from './bq-tables.js';
import { tempDir } from './files.js';

/** maximumBytesBilled of every tier and engine the BigQuery tests open: 10 GiB, never reached. */
export const TEST_BYTES_BILLED = '10737418240';

/**
 * One BigQuery test case's emulator: its project holds the datasets `audit` (the tiers' tables) and
 * `scratch` (the engine's), and a local temp folder for the engine. stop() ends the emulator and
 * removes the folder; close the engine first.
 */
export interface EmulatorCase {
  project: string;
  emu: BqEmulator;
  bq: BigQuery;
  audit: Dataset;
  /** `project.scratch`: the engine's dataset. */
  scratch: string;
  dir: string;
  /** A reader of `project.audit.tableId` as a sink writes it: ts, request_id, site, dt (and status for proxy). */
  tier(kind: 'proxy' | 'landed', tableId: string, options?: { compare?: readonly string[] }): BigqueryTier;
  /** The BigQuery engine on the scratch dataset, cutting days in `timezone`. */
  openEngine(options: { timezone: string; compare?: readonly string[] }): Promise<BigqueryEngine>;
  stop(): Promise<void>;
}

/**
 * A reader of `table` (`project.dataset.table`) with the columns a sink writes: ts, request_id,
 * site, dt (the partition) and, for the proxy, status. `via` is the emulator's client, or the
 * endpoint the tier makes a client of its own for.
 */
export function sinkTableTier(
  kind: 'proxy' | 'landed',
  table: string,
  via: { client: BigQuery } | { apiEndpoint: string },
  options: { compare?: readonly string[] } = {},
): BigqueryTier {
  return createBigqueryTier(
    {
      kind,
      table,
      columns: {
        timestamp: 'ts',
        request_id: 'request_id',
        site: 'site',
        partition: 'dt',
        ...(kind === 'proxy' ? { status: 'status' } : {}),
      },
      ...('apiEndpoint' in via ? { apiEndpoint: via.apiEndpoint } : {}),
      maximumBytesBilled: TEST_BYTES_BILLED,
      partitionMarginDays: 1,
      ...(options.compare ? { compare: options.compare } : {}),
    },
    'client' in via ? via.client : undefined,
  );
}

/**
 * Starts an emulator for one case (one per case: after a dozen runs one emulator's SQL parser fails
 * every query), with the datasets `audit` and `scratch` created. Stops it again when set-up fails.
 */
export async function startEngineEmulator(
  project: string,
  options: StartBqEmulatorOptions & { dirPrefix?: string } = {},
): Promise<EmulatorCase> {
  const { dirPrefix, ...emulatorOptions } = options;
  const emu = await startBqEmulator(project, emulatorOptions);
  let dir: string | undefined;
  const stop = async () => {
    await emu.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const bq = createBigqueryClient({ projectId: project, apiEndpoint: emu.endpoint });
    const audit = await createDataset(bq, 'audit');
    await createDataset(bq, 'scratch');
    dir = await tempDir(dirPrefix ?? 'parity-bq-case-');
    const scratch = `${project}.scratch`;
    const caseDir = dir;
    return {
      project,
      emu,
      bq,
      audit,
      scratch,
      dir: caseDir,
      tier: (kind, tableId, tierOptions) =>
        sinkTableTier(kind, `${project}.audit.${tableId}`, { client: bq }, tierOptions),
      openEngine: ({ timezone, compare }) =>
        BigqueryEngine.open(
          {
            dataset: scratch,
            jobProject: project,
            apiEndpoint: emu.endpoint,
            maximumBytesBilled: TEST_BYTES_BILLED,
            timezone,
            tempDirectory: caseDir,
            ...(compare ? { compare } : {}),
          },
          bq,
        ),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Runs `fn` on a fresh {@link startEngineEmulator} case and stops it afterwards, whatever happens. */
export async function withEmulatorCase<T>(
  project: string,
  fn: (c: EmulatorCase) => Promise<T>,
  options: StartBqEmulatorOptions & { dirPrefix?: string } = {},
): Promise<T> {
  const c = await startEngineEmulator(project, options);
  try {
    return await fn(c);
  } finally {
    await c.stop();
  }
}

/**
 * The landed table with the compared fields as the columns a sink writes (`body.amount`: field
 * amount of RECORD column body, in the order the fields first appear; values STRING), then `extra`.
 */
export function compareLandedSchema(compare: readonly string[], extra: TableField[] = []): TableField[] {
  const columns: TableField[] = [];
  for (const field of compare) {
    const [name, sub, ...deeper] = field.split('.');
    if (deeper.length > 0) throw new Error(`compareLandedSchema: ${field} is nested deeper than one record`);
    let column = columns.find((c) => c.name === name);
    if (!column) {
      column = sub === undefined ? { name, type: 'STRING' } : { name, type: 'RECORD', fields: [] };
      columns.push(column);
    }
    if (sub !== undefined) column.fields!.push({ name: sub, type: 'STRING' });
  }
  return [...LANDED_SCHEMA, ...columns, ...extra];
}

/**
 * A landed record with compared fields as the table row a sink writes: the landed columns, then
 * every further column of `schema` from the record's field of that name (null when missing).
 */
export function landedFieldsRow(
  r: { ts: number; request_id: string; site: string } & Record<string, unknown>,
  day: string,
  schema: TableField[],
): TableRow {
  const row: Record<string, unknown> = {
    ts: new Date(r.ts).toISOString(),
    request_id: r.request_id,
    site: r.site,
    dt: day,
  };
  for (const f of schema) if (!LANDED_SCHEMA.some((l) => l.name === f.name)) row[f.name!] = r[f.name!] ?? null;
  return row as TableRow;
}
