import { PARITY_HEADER, type ParityRow } from '../../src/domain.js';
import { historyRows } from '../../src/report/history.js';

const RUN = { asOf: '2025-03-10T06:00:00.000Z', version: '0.1.0', revision: null, configHash: 'h', command: 'daily' };

/** A parity row with every column empty but those given. */
function row(over: Partial<ParityRow>): ParityRow {
  const r = Object.fromEntries(PARITY_HEADER.map((c) => [c, null])) as unknown as ParityRow;
  return Object.assign(r, over);
}

describe('the history table rows', () => {
  it('carry every parity column, each region, the run, and content_mismatch from a run that compares', () => {
    const rows = historyRows(
      [
        {
          rows: [
            row({ date: '2025-03-09', site: 'US', missing: 3, regions: { EUS2: 10 }, content_mismatch: 2 }),
            row({ date: '2025-03-09', site: 'ALL', missing: 3, regions: { EUS2: 10 }, content_mismatch: null }),
          ],
        },
      ],
      RUN,
      ['EUS2'],
    );
    expect(rows.map((r) => [r.site, r.missing, r.kafka_eus2, r.content_mismatch, r.as_of])).toEqual([
      ['US', 3, 10, 2, RUN.asOf],
      ['ALL', 3, 10, null, RUN.asOf],
    ]);
    expect(Object.keys(rows[0]!)).toEqual([
      ...PARITY_HEADER,
      'kafka_eus2',
      'content_mismatch',
      'as_of',
      'version',
      'config_hash',
    ]);
  });

  it('add no content_mismatch column from a run that does not compare', () => {
    const rows = historyRows([{ rows: [row({ date: '2025-03-09', site: 'ALL', missing: 0 })] }], RUN, []);
    expect(Object.keys(rows[0]!)).not.toContain('content_mismatch');
  });
});
