import { parse } from 'csv-parse/sync';
import type { LossCause, LossWindow } from '../domain.js';
import { LOSS_CAUSES } from '../reconcile/rules.js';
import { WINDOWS_HEADER } from './columns.js';
import { unguardCell } from './csv.js';

const CAUSES: ReadonlySet<string> = new Set(LOSS_CAUSES.map((c) => c.cause));
const COUNT = /^\d+$/;

/**
 * The rows of a windows-DAY.csv this job wrote, back as the loss windows it rendered them from: the
 * formula guard undone on `site` when it was on, `window_start` back to its instant. A file that is
 * not one of ours (another header, a count or cause it never writes) is refused with an Error naming
 * the line, so the caller can leave the day's strip out rather than draw a wrong one. Pure.
 */
export function parseWindowsCsv(text: string, formulaGuard: boolean): LossWindow[] {
  const records: string[][] = parse(text, { record_delimiter: '\r\n', relax_column_count: false });
  const [header, ...body] = records;
  if (!header || header.join(',') !== WINDOWS_HEADER.join(','))
    throw new Error(`not a windows file: header "${header?.join(',') ?? ''}"`);
  return body.map((cells, i) => {
    const [, site = '', start = '', accepted = '', landed = '', missing = '', cause = ''] = cells;
    const startMs = Date.parse(start);
    if (!Number.isFinite(startMs) || ![accepted, landed, missing].every((n) => COUNT.test(n)) || !CAUSES.has(cause))
      throw new Error(`not a windows file: line ${i + 2} is not a window this job writes`);
    return {
      site: formulaGuard ? unguardCell(site) : site,
      startMs,
      accepted: Number(accepted),
      landed: Number(landed),
      missing: Number(missing),
      leadingCause: cause as LossCause,
    };
  });
}
