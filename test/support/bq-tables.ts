import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { once } from 'node:events';
import path from 'node:path';
import type { BigQuery, Dataset, TableField } from '@google-cloud/bigquery';
import { dayOf } from '../../src/dates.js';
import type { LandedCopy, ProxyLine } from '../../src/demo/generator.js';

/** A proxy table as a log sink would export the access log: partitioned by the UTC date of the request. */
export const PROXY_SCHEMA: TableField[] = [
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'request_id', type: 'STRING' },
  { name: 'site', type: 'STRING' },
  { name: 'status', type: 'INT64' },
  { name: 'dt', type: 'DATE' },
];

/** The landed table, partitioned by the date of the folder the sink wrote each record into. */
export const LANDED_SCHEMA: TableField[] = [
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'request_id', type: 'STRING' },
  { name: 'site', type: 'STRING' },
  { name: 'dt', type: 'DATE' },
];

export type TableRow = Record<string, string | number | null>;

export const proxyRow = (l: ProxyLine): TableRow => ({
  ts: new Date(l.ts).toISOString(),
  request_id: l.request_id,
  site: l.site ?? null,
  status: l.status,
  dt: dayOf(l.ts, 'UTC'),
});
export const landedRow = (c: LandedCopy): TableRow => ({
  ts: new Date(c.ts).toISOString(),
  request_id: c.request_id,
  site: c.site ?? null,
  dt: c.folderDay,
});

/** Rows per load job: the emulator fails a single upload of a few hundred megabytes ("json: string unexpected end of JSON input"). */
const ROWS_PER_LOAD = 500_000;

/**
 * Creates a DAY-partitioned table (on dt) and fills it with load jobs from local NDJSON files, as
 * a real pipeline's batch loads do; the rows are streamed to the files, never held as one string.
 */
export async function loadTable(
  dataset: Dataset,
  tableId: string,
  schema: TableField[],
  rows: Iterable<TableRow> | AsyncIterable<TableRow>,
): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parity-bq-load-'));
  try {
    const [table] = await dataset.createTable(tableId, {
      schema: { fields: schema },
      timePartitioning: { type: 'DAY', field: 'dt' },
    });
    const file = path.join(dir, `${tableId}.ndjson`);
    let total = 0;
    let part: { out: ReturnType<typeof createWriteStream>; rows: number; text: string } | undefined;
    const load = async () => {
      if (!part) return;
      part.out.end(part.text);
      await once(part.out, 'close');
      await table.load(file, {
        sourceFormat: 'NEWLINE_DELIMITED_JSON',
        schema: { fields: schema },
        writeDisposition: 'WRITE_APPEND',
      });
      part = undefined;
    };
    for await (const row of rows) {
      part ??= { out: createWriteStream(file), rows: 0, text: '' };
      part.text += JSON.stringify(row) + '\n';
      part.rows++;
      total++;
      if (part.text.length > 1 << 20) {
        if (!part.out.write(part.text)) await once(part.out, 'drain');
        part.text = '';
      }
      if (part.rows >= ROWS_PER_LOAD) await load();
    }
    await load();
    return total;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A new dataset in the emulator's project. */
export async function createDataset(bq: BigQuery, name: string): Promise<Dataset> {
  const [dataset] = await bq.createDataset(name, { location: 'US' });
  return dataset;
}
