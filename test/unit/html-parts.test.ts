/** The HTML report's small formatting (src/report/html/parts.ts): what an analyst reads beside each bar. */
import { rowOf, share } from '../../src/report/html/parts.js';
import { PARITY_HEADER, type ParityRow } from '../../src/domain.js';

describe('share: a count as a share of its whole', () => {
  it('never rounds a loss to none, nor what is left after one to all', () => {
    expect(share(50, 2_000_000)).toBe('< 0.01 %');
    expect(share(1_999_950, 2_000_000)).toBe('> 99.9 %');
    expect(share(0, 2_000_000)).toBe('0.0 %');
    expect(share(2_000_000, 2_000_000)).toBe('100.0 %');
    expect(share(1, 3)).toBe('33.3 %');
    expect(share(3, 400)).toBe('0.75 %');
    // More than the whole (Kafka's messages beside the accepted ids) is said as it is.
    expect(share(2_100_000, 2_000_000)).toBe('105.0 %');
    expect(share(5, 0)).toBe('');
  });
});

describe('rowOf: a site row of a day', () => {
  it("is the first row of that site, as a scan finds it, for every site of a day's rows", () => {
    const row = (site: string, n: number) =>
      Object.assign(Object.fromEntries(PARITY_HEADER.map((c) => [c, null])), {
        site,
        proxy_requests: n,
      }) as unknown as ParityRow;
    const rows = Array.from({ length: 5000 }, (_, i) => row(`S${i}`, i));
    rows.push(row('S7', -1));
    for (const i of [0, 7, 4999]) expect(rowOf(rows, `S${i}`)).toBe(rows.find((r) => r.site === `S${i}`));
    expect(rowOf(rows, 'ZZ')).toBeUndefined();
  });
});
