import { createRequire } from 'node:module';

/**
 * @duckdb/node-api, loaded with `require`. It is CommonJS of about 120 files re-exported from one
 * index: imported from ESM, Node lexes every one of them for its export names first, which took half of
 * the package's ~115 ms load, on every run's start-up (required: ~60 ms). Types come from the package
 * itself (`import type` costs nothing at run time).
 */
const api = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');

export const { BIGINT, BOOLEAN, LIST, listValue, VARCHAR } = api;
export const DuckDBInstance = api.DuckDBInstance;
export type DuckDBInstance = import('@duckdb/node-api').DuckDBInstance;
export type { DuckDBAppender, DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
