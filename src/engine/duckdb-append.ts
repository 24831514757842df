import type { DuckDBConnection } from './duckdb-api.js';
import type { StreamedRow } from '../domain.js';

/** Appends streamed rows to a streamed-raw.sql table, in its column order. */
export async function appendStreamedRows(
  db: DuckDBConnection,
  table: string,
  rows: readonly StreamedRow[],
): Promise<void> {
  const appender = await db.createAppender(table);
  const text = (v: string | null | undefined) =>
    v === null || v === undefined ? appender.appendNull() : appender.appendVarchar(v);
  for (const r of rows) {
    text(r.region);
    if (r.timestampMs === null) appender.appendNull();
    else appender.appendBigInt(BigInt(r.timestampMs));
    text(r.requestId);
    text(r.siteHeader);
    appender.appendBoolean(r.inFlight);
    appender.appendBigInt(BigInt(r.n));
    // A status that is no INTEGER is none, as the file lines' cast makes it (appendInteger threw past 2^31).
    if (isInteger32(r.status)) appender.appendInteger(r.status);
    else appender.appendNull();
    text(r.payload);
    text(r.untimedDay);
    appender.appendNull(); // tags: taken by the engine (kafka-tags.sql), never by JavaScript
    appender.endRow();
  }
  appender.closeSync();
}

const isInteger32 = (v: number | null | undefined): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= -2_147_483_648 && v <= 2_147_483_647;
