import { earlierReportNames, SYNC_HISTORY_DAYS } from '../../jobs/sync-reports.js';

describe('the earlier reports a run brings from the --out bucket', () => {
  it("are the run's days and the 35 days before the first: parity, missing and manifest of each, windows and mismatch of the run's", () => {
    expect(SYNC_HISTORY_DAYS).toBe(35);
    const names = earlierReportNames(['2025-03-10', '2025-03-08']);
    expect(names.size).toBe(3 * (35 + 3) + 2 * 3);
    for (const name of ['parity-2025-02-01.csv', 'missing-2025-03-09.csv', 'manifest-2025-03-10.json'])
      expect(names.has(name)).toBe(true);
    for (const name of ['windows-2025-03-08.csv', 'mismatch-2025-03-10.csv']) expect(names.has(name)).toBe(true);
    for (const name of [
      'parity-2025-01-31.csv',
      'manifest-2025-03-11.json',
      'report-2025-03-08_2025-03-10.html',
      'windows-2025-03-07.csv',
    ])
      expect(names.has(name)).toBe(false);
    expect(earlierReportNames([]).size).toBe(0);
  });
});
