import { PARITY_HEADER, type ParityRow } from '../../src/domain.js';
import { historyRows, historyTypes } from '../../src/report/history.js';

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
      'kafka_expired',
      'content_mismatch',
      'as_of',
      'version',
      'config_hash',
    ]);
  });

  it("write an EXPIRED cluster's count as NULL and name it in kafka_expired: a count column holds counts", () => {
    const rows = historyRows(
      [{ rows: [row({ date: '2025-01-02', site: 'ALL', regions: { EUS2: 'EXPIRED', SCUS: 7 } })] }],
      RUN,
      ['EUS2', 'SCUS'],
    );
    expect([rows[0]!.kafka_eus2, rows[0]!.kafka_scus, rows[0]!.kafka_expired]).toEqual([null, 7, 'EUS2']);
    const types = historyTypes(['EUS2', 'SCUS']);
    // Every column a row has gets its type from what it is, not from the first values written (often NULL).
    expect(Object.keys(rows[0]!).filter((c) => !(c in types))).toEqual([]);
    expect([types.kafka_records, types.kafka_eus2, types.kafka_expired, types.parity_pct, types.date]).toEqual([
      'INT64',
      'INT64',
      'STRING',
      'STRING',
      'DATE',
    ]);
  });

  it('add no content_mismatch column from a run that does not compare', () => {
    const rows = historyRows([{ rows: [row({ date: '2025-03-09', site: 'ALL', missing: 0 })] }], RUN, []);
    expect(Object.keys(rows[0]!)).not.toContain('content_mismatch');
  });
});
