/**
 * When a partition whose head is gone may have lost records of a day: the topic's retention settings
 * (src/tiers/kafka-offsets.ts). The brokers' own answer, emptied partitions, is in test/integration/kafka.test.ts.
 */
import { RETENTION_CLOCK_MARGIN_MS, retentionKeeps, type TopicRetention } from '../../src/tiers/kafka-offsets.js';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 10, 30, 6);
const WEEK: TopicRetention = { policies: ['delete'], retentionMs: 7 * DAY_MS, retentionBytes: -1 };

describe('retentionKeeps: whether time retention cannot yet have removed a record stamped at or after the day start', () => {
  test('a day younger than retention.ms, less the clock margin, is kept; one older is not', () => {
    const youngest = NOW + RETENTION_CLOCK_MARGIN_MS - WEEK.retentionMs;
    expect(retentionKeeps(WEEK, youngest, NOW)).toBe(true);
    expect(retentionKeeps(WEEK, youngest - 1, NOW)).toBe(false);
    expect(retentionKeeps(WEEK, NOW - DAY_MS, NOW)).toBe(true);
    expect(retentionKeeps(WEEK, NOW - 8 * DAY_MS, NOW)).toBe(false);
  });

  test('no time limit rules nothing out: a head gone without one went by deleteRecords', () => {
    expect(retentionKeeps({ ...WEEK, retentionMs: -1 }, NOW - DAY_MS, NOW)).toBe(false);
  });

  test('a size limit, a compacted-only topic, or settings not told keep nothing', () => {
    expect(retentionKeeps({ ...WEEK, retentionBytes: 1 << 30 }, NOW - DAY_MS, NOW)).toBe(false);
    expect(retentionKeeps({ ...WEEK, retentionBytes: 0 }, NOW - DAY_MS, NOW)).toBe(false);
    expect(retentionKeeps({ ...WEEK, policies: ['compact'] }, NOW - DAY_MS, NOW)).toBe(false);
    expect(retentionKeeps(null, NOW - DAY_MS, NOW)).toBe(false);
  });

  test('compact and delete together is time retention too', () => {
    expect(retentionKeeps({ ...WEEK, policies: ['compact', 'delete'] }, NOW - DAY_MS, NOW)).toBe(true);
  });
});
