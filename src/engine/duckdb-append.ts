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
    appender.appendBigInt(BigInt(r.timestampMs));
    text(r.requestId);
    text(r.siteHeader);
    appender.appendBoolean(r.inFlight);
    appender.appendBigInt(BigInt(r.n));
    if (r.status === undefined || r.status === null) appender.appendNull();
    else appender.appendInteger(r.status);
    text(r.payload);
    appender.endRow();
  }
  appender.closeSync();
}
