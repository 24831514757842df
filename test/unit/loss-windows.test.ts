import { foldWindows, WINDOW_MS } from '../../src/engine/loss-windows.js';

const group = (site: string, bucket: number, ids: number, facts: Record<string, boolean> = {}) => ({
  site,
  bucket: BigInt(bucket),
  in_final: false,
  unroutable: false,
  kafka_known: false,
  in_kafka: false,
  in_flight: false,
  ...facts,
  ids: BigInt(ids),
});

describe('loss windows from the engine groups', () => {
  test('sum groups per site and bucket, keep only buckets that lost anything, sites in config order', () => {
    const windows = foldWindows(
      [
        group('UNKNOWN', 5, 2, { unroutable: true }),
        group('US', 7, 4, { in_final: true }),
        group('US', 6, 3, { in_final: true }),
        group('US', 6, 1),
        group('CA', 6, 2, { kafka_known: true, in_kafka: true, in_flight: true }),
      ],
      ['US', 'CA'],
    );
    expect(windows).toEqual([
      { site: 'US', startMs: 6 * WINDOW_MS, accepted: 4, landed: 3, missing: 1, leadingCause: 'unexplained' },
      { site: 'CA', startMs: 6 * WINDOW_MS, accepted: 2, landed: 0, missing: 2, leadingCause: 'in_flight' },
      { site: 'UNKNOWN', startMs: 5 * WINDOW_MS, accepted: 2, landed: 0, missing: 2, leadingCause: 'unknown_site' },
    ]);
  });

  test('the leading cause is the most frequent one, ties going to the earlier cause in the rules', () => {
    const lostBeforeKafka = { kafka_known: true, in_kafka: false };
    const tie = foldWindows([group('US', 1, 2, { unroutable: true }), group('US', 1, 2, lostBeforeKafka)], ['US']);
    expect(tie.map((w) => w.leadingCause)).toEqual(['lost_before_kafka']);
    const most = foldWindows([group('US', 1, 3, { unroutable: true }), group('US', 1, 2, lostBeforeKafka)], ['US']);
    expect(most.map((w) => [w.missing, w.leadingCause])).toEqual([[5, 'unknown_site']]);
  });
});
