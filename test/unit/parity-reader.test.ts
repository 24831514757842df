import { PARITY_HEADER, type ParityRow } from '../../src/report/columns.js';
import { renderParityCsv } from '../../src/report/csv.js';
import { parseParityCsv } from '../../src/report/parity-reader.js';

/** A row with every column empty, then the given values. */
function row(
  values: Partial<Record<string, string | number | null>>,
  regions?: Record<string, number | null>,
): ParityRow {
  const base = Object.fromEntries(PARITY_HEADER.map((c) => [c, null])) as unknown as ParityRow;
  return { ...base, ...values, ...(regions ? { regions } : {}) } as ParityRow;
}

describe('reading a parity report back', () => {
  it.each([true, false])(
    'gives back the rows it was rendered from (formula guard %s): counts as numbers, parity as its text, empty as null',
    (formulaGuard) => {
      const rows = [
        row(
          {
            date: '2025-04-01',
            site: 'US',
            proxy_requests: 40,
            proxy_accepted: 40,
            unexplained: -1,
            parity_pct: '97.5000',
            status: 'FAIL',
            status_reason: '=parity 97.5000 < failPct 99',
          },
          { eus2: 12, wus2: null },
        ),
        row(
          {
            date: '2025-04-01',
            site: 'ALL',
            proxy_requests: 40,
            parity_pct: '97.5000',
            status: 'FAIL',
            status_reason: 'parity 97.5000 < failPct 99',
            error: 'gcs: /data/x, "quoted"',
          },
          { eus2: 12, wus2: 0 },
        ),
        // A PASS row's reason is '' (no rule spoke), not null: the history gets it so from a day read back too.
        row(
          { date: '2025-04-01', site: 'CA', proxy_requests: 0, status: 'PASS', status_reason: '' },
          { eus2: 0, wus2: 0 },
        ),
      ];
      const text = renderParityCsv(rows, ['eus2', 'wus2'], { formulaGuard });
      expect(parseParityCsv(text, ['eus2', 'wus2'], formulaGuard)).toEqual(rows);
    },
  );

  it('reads a site the guard prefixed as the site, whatever the guard is now (a report of before it changed)', () => {
    const rows = [row({ date: '2025-04-01', site: '-X', status: 'PASS', status_reason: '' }, { eus2: 0 })];
    const guarded = renderParityCsv(rows, ['eus2'], { formulaGuard: true });
    expect(guarded).toContain(",'-X,");
    expect(parseParityCsv(guarded, ['eus2'], false)).toEqual(rows);
  });
});
