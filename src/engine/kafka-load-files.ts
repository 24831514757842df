import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Table } from '@google-cloud/bigquery';
import type { TimedStreamedRow } from '../domain.js';
import { InternalError } from '../errors.js';
import { strictJson } from './kafka-json.js';

/** Kafka rows per load job (about 120 MB of NDJSON): uploads stay moderate however large the day. */
export const KAFKA_ROWS_PER_LOAD = 1_000_000;

/** The schema of Kafka's rows as they are loaded (streamed-raw.sql's, without status). */
export const KAFKA_RAW_SCHEMA = {
  fields: [
    { name: 'region', type: 'STRING' },
    { name: 'ts_ms', type: 'INT64' },
    { name: 'rid', type: 'STRING' },
    { name: 'site_raw', type: 'STRING' },
    { name: 'in_flight', type: 'BOOL' },
    { name: 'n', type: 'INT64' },
    // the message's value, only with `compare` (its fields are hashed in BigQuery)
    { name: 'payload', type: 'STRING' },
  ],
};

interface KafkaPart {
  file: string;
  out: WriteStream;
  /** Rows in this part's file. */
  rows: number;
  /** Parts of the batch loaded before this one. */
  loaded: number;
}

export interface KafkaLoadFilesOptions {
  /** The local folder the files are written to. */
  directory: string;
  /** In the file names, so that runs sharing the folder never collide. */
  runId: string;
  rowsPerLoad: number;
  /** Loads one file (NDJSON of KAFKA_RAW_SCHEMA); `first`: the batch's first part, which replaces the table. */
  load: (file: string, first: boolean) => Promise<void>;
  /** What a failed part becomes (the engine's TierError). */
  toError: (e: unknown) => Error;
}

/**
 * Kafka's rows on their way into the bigquery engine: written to a local file as they are read,
 * memory holding one batch whatever the day's size; every `rowsPerLoad` rows the file is loaded
 * (one load job) and the next one begins. A file is removed once loaded, or discarded.
 */
export class KafkaLoadFiles {
  private part: KafkaPart | undefined;
  /**
   * A part's failed load, until the next batch begins: every append and finish after it fails with it
   * at once. Before, they waited on the ended file (a 'drain' or 'close' that never came): a hung run.
   */
  private failed: Error | undefined;

  constructor(private readonly options: KafkaLoadFilesOptions) {}

  async begin(): Promise<void> {
    await this.discard();
    this.failed = undefined;
    this.part = this.newPart(0);
  }

  async append(rows: readonly TimedStreamedRow[]): Promise<void> {
    if (this.failed) throw this.failed;
    const k = this.part;
    if (!k) throw new InternalError('bigquery engine: appendStreamed before beginStreamed');
    let text = '';
    for (const r of rows) {
      text +=
        JSON.stringify({
          region: r.region,
          ts_ms: r.timestampMs,
          rid: r.requestId,
          site_raw: r.siteHeader,
          in_flight: r.inFlight,
          n: r.n,
          // As DuckDB's reader takes it, in text BigQuery's strict JSON functions take too (NaN, a trailing comma).
          ...(r.payload !== undefined && r.payload !== null ? { payload: strictJson(r.payload) } : {}),
        }) + '\n';
    }
    if (text !== '' && !k.out.write(text)) await once(k.out, 'drain');
    k.rows += rows.length;
    if (k.rows >= this.options.rowsPerLoad) {
      this.part = undefined;
      await this.loadPart(k);
      this.part = this.newPart(k.loaded + 1);
    }
  }

  /** Loads what is left; false when the batch had no row at all (nothing was loaded). */
  async finish(): Promise<boolean> {
    if (this.failed) throw this.failed;
    const k = this.part;
    if (!k) throw new InternalError('bigquery engine: finishStreamed before beginStreamed');
    this.part = undefined;
    if (k.rows > 0) await this.loadPart(k);
    else await discardPart(k);
    return !(k.loaded === 0 && k.rows === 0);
  }

  /** Drops the file being written, if any. */
  async discard(): Promise<void> {
    const k = this.part;
    if (!k) return;
    this.part = undefined;
    await discardPart(k);
  }

  /** `loaded`: how many parts of this batch are in the table already (the first load replaces it). */
  private newPart(loaded: number): KafkaPart {
    const file = path.join(this.options.directory, `kafka-${this.options.runId}-${loaded}.ndjson`);
    return { file, out: createWriteStream(file), rows: 0, loaded };
  }

  private async loadPart(k: KafkaPart): Promise<void> {
    try {
      k.out.end();
      await once(k.out, 'close');
      await this.options.load(k.file, k.loaded === 0);
    } catch (e) {
      this.failed = this.options.toError(e);
      throw this.failed;
    } finally {
      await rm(k.file, { force: true });
    }
  }
}

/** One file of Kafka's rows into `table`: a batch's first part replaces the table, the others append. */
export async function loadKafkaFile(table: Table, file: string, first: boolean, location?: string): Promise<void> {
  await table.load(file, {
    sourceFormat: 'NEWLINE_DELIMITED_JSON',
    schema: KAFKA_RAW_SCHEMA,
    writeDisposition: first ? 'WRITE_TRUNCATE' : 'WRITE_APPEND',
    ...(location ? { location } : {}),
  });
}

async function discardPart(k: KafkaPart): Promise<void> {
  k.out.destroy();
  await rm(k.file, { force: true });
}
