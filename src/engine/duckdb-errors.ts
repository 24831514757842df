import { AbortedError, ResourceError } from '../errors.js';

/** How DuckDB's message begins when a query ran out of its memory limit (its exception type's name). */
const DUCKDB_OUT_OF_MEMORY = 'Out of Memory Error';

/**
 * A DuckDB query's failure as the run should see it: an abort when the run was stopped (an interrupted
 * query fails with whatever DuckDB calls it), a ResourceError naming the settings when it ran out of the
 * memory limit, else the error itself. DuckDB's Node binding gives its errors no code or type, only the
 * message, which starts with DuckDB's exception type name: that prefix is the one classification it offers.
 */
export function duckDbFailure(e: unknown, run: { aborted: boolean; memoryLimit: string }): Error {
  if (run.aborted) return new AbortedError();
  const message = e instanceof Error ? e.message : String(e);
  if (!message.startsWith(DUCKDB_OUT_OF_MEMORY)) return e instanceof Error ? e : new Error(message);
  const detail = message.split('\n')[0]!;
  return new ResourceError(
    `engine: the embedded engine needed more than its memory limit (${run.memoryLimit}) and could not spill ` +
      'the rest to engine.tempDirectory: raise engine.memoryLimit (or the container memory it is derived from), ' +
      'or lower engine.batchDays so that one pass holds fewer days; days finished before this batch keep ' +
      `their reports (DuckDB: ${detail})`,
    detail,
    { cause: e },
  );
}
