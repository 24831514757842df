import { parse } from 'csv-parse/sync';
import { isRowStatus } from '../domain.js';
import {
  CONTENT_MISMATCH_COLUMN,
  PARITY_HEADER,
  PARITY_TEXT_COLUMNS,
  type ParityColumn,
  type ParityRow,
  regionColumn,
} from './columns.js';
import { PARITY_GUARDED_COLUMNS, unguardCell } from './csv.js';

const INTEGER = /^-?\d+$/;

/**
 * The rows of a parity-DAY.csv this job wrote, back as the rows it rendered them from: empty cells
 * null, counts numbers, the formula guard undone when it was on. For a report that covers days
 * reported earlier (a resumed backfill). Pure.
 */
export function parseParityCsv(text: string, regions: readonly string[], formulaGuard: boolean): ParityRow[] {
  const records: string[][] = parse(text, {
    record_delimiter: '\r\n',
    relax_column_count: false,
    skip_empty_lines: true,
  });
  const [header, ...body] = records;
  if (!header) return [];
  const index = new Map(header.map((name, i) => [name, i]));
  const valueOf = (column: string, cells: string[]): string | number | null => {
    const i = index.get(column);
    const raw = i === undefined ? '' : (cells[i] ?? '');
    if (raw === '') return null;
    // A site code never begins with ' (config: letters, digits, _ and -): a leading one is the guard's, whatever
    // the guard is now (a report written before reports.csvFormulaGuard changed, read back by daily or backfill).
    if (column === 'site') return unguardCell(raw);
    // Text columns stay text (parity_pct's four decimals too); the formula guard may have prefixed some.
    if (PARITY_TEXT_COLUMNS.has(column))
      return formulaGuard && PARITY_GUARDED_COLUMNS.has(column as ParityColumn) ? unguardCell(raw) : raw;
    return INTEGER.test(raw) ? Number(raw) : raw;
  };
  return body.map((cells) => {
    const cellsOf = Object.fromEntries(PARITY_HEADER.map((c) => [c, valueOf(c, cells)])) as Record<
      ParityColumn,
      string | number | null
    >;
    // This job writes only known statuses; a cell that is none (an edited file) reads as no status.
    const status = isRowStatus(cellsOf.status) ? cellsOf.status : null;
    // A graded row's reason is text, '' where no rule spoke (a PASS): as the run that wrote it had it, so that
    // a day read back (a resumed backfill's) gives the history the same row as one counted.
    const reason = status !== null && cellsOf.status_reason === null ? '' : cellsOf.status_reason;
    const row: ParityRow = { ...cellsOf, status, status_reason: reason };
    const mismatch = valueOf(CONTENT_MISMATCH_COLUMN, cells);
    if (typeof mismatch === 'number') row.content_mismatch = mismatch;
    if (regions.length === 0) return row;
    return { ...row, regions: Object.fromEntries(regions.map((g) => [g, valueOf(regionColumn(g), cells)])) };
  });
}
