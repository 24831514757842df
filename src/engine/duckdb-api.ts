import { createRequire } from 'node:module';

/**
 * @duckdb/node-api, loaded with `require`. It is CommonJS of about 120 files re-exported from one
 * index: imported from ESM, Node lexes every one of them for its export names first, which took half of
 * the package's ~115 ms load, on every run's start-up (required: ~60 ms). Types come from the package
 * itself (`import type` costs nothing at run time).
 */
const api = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');

export const { BIGINT, BOOLEAN, LIST, listValue, VARCHAR } = api;

/**
 * A BLOB value (a row object's Buffer, or a vector item's DuckDBBlobValue) as UTF-8 text, byte for byte.
 * The package decodes VARCHAR with a TextDecoder that drops a leading U+FEFF, so `\uFEFF=1+1` came back as
 * `=1+1`: text from the logs that is written out (request ids) is selected as encode(…) and read with this.
 */
export function utf8OfBlob(v: unknown): string {
  const bytes = v instanceof Uint8Array ? v : (v as { bytes?: unknown } | null)?.bytes;
  if (!(bytes instanceof Uint8Array)) throw new Error(`not a BLOB value: ${String(v)}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
export const DuckDBInstance = api.DuckDBInstance;
export type DuckDBInstance = import('@duckdb/node-api').DuckDBInstance;
export type { DuckDBAppender, DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
