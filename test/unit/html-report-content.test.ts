/** What the HTML report says of rows the CSV leaves empty, and how it is written (src/report/html/report.ts). */
import { PARITY_HEADER, type ParityRow } from '../../src/domain.js';
import { htmlReportChunks, type HtmlReportInput, renderHtmlReport } from '../../src/report/html/report.js';

/** A parity row with every column empty but those given. */
const row = (fields: Partial<Record<string, unknown>>): ParityRow =>
  Object.assign(Object.fromEntries(PARITY_HEADER.map((c) => [c, null])), fields) as unknown as ParityRow;

const TEXT_COLUMNS: readonly string[] = ['date', 'site', 'status', 'status_reason', 'error', 'volume_drop'];

/** A day whose tiers were all read: proxy and gcs counts, PASS. */
const counted = (day: string, site: string) =>
  row({
    date: day,
    site,
    // Every count zero unless given: the text columns (status_reason, error, volume_drop…) stay empty.
    ...Object.fromEntries(PARITY_HEADER.filter((c) => !TEXT_COLUMNS.includes(c)).map((c) => [c, 0])),
    proxy_requests: 10,
    proxy_accepted: 10,
    accepted_distinct: 10,
    gcs_records: 10,
    gcs_distinct: 10,
    parity_pct: '100',
    status: 'PASS',
  });

const base: Omit<HtmlReportInput, 'days'> = {
  title: 'Audit parity — reconcile',
  sites: ['US'],
  thresholds: { warnPct: 99.9, failPct: 99 },
};

const titleOfMatrixTotal = (html: string, site: string) =>
  new RegExp(`<td[^>]*title="(${site}: summed over [^"]*)"`).exec(html)?.[1];

describe('the HTML report', () => {
  it('shows a tier that could not be read on any day as configured, its empty cells saying why', () => {
    const error = 'gcs: gs://landed/dt=2025-03-09/: 403 Forbidden — check tiers.gcs.locations[0]';
    const days = [
      {
        day: '2025-03-09',
        rows: ['US', 'ALL'].map((site) =>
          row({ date: '2025-03-09', site, proxy_requests: 10, proxy_accepted: 10, status: 'ERROR', error }),
        ),
      },
    ];
    const html = renderHtmlReport({ ...base, days, tiers: { gcs: true } });
    expect(html).toContain('<dt>Tiers</dt><dd>proxy, gcs (final: gcs)</dd>');
    expect(html).not.toContain('the gcs tier is not configured');
    expect(html).toContain(`empty: not counted — ${error}`);
    // Not among the columns hidden as of tiers the run did not configure.
    expect(/did not configure are left out here[^.]*\./.exec(html)?.[0] ?? '').not.toContain('gcs_records');
    // Without the config's word the rows alone cannot tell (rows read back): the columns are hidden as unconfigured.
    const old = renderHtmlReport({ ...base, days });
    expect(/did not configure are left out here[^.]*\./.exec(old)?.[0]).toContain('<code>gcs_records</code>');
  });

  it('says a NO_DATA row had nothing to lose, not that it lost nothing, and why its parity is empty', () => {
    const reason = 'no proxy records for US';
    const days = [
      {
        day: '2025-03-09',
        rows: [row({ date: '2025-03-09', site: 'US', status: 'NO_DATA', status_reason: reason, proxy_requests: 0 })],
        windows: [],
      },
    ];
    const html = renderHtmlReport({ ...base, days });
    expect(html).toContain('No data (NO_DATA): nothing was there to lose, which is no sign of health.');
    expect(html).not.toContain('Lost nothing in any quarter hour.');
    expect(html).toContain(`title="empty: no data — ${reason}"`);
    expect(html).not.toContain('ids landed but none was accepted');
  });

  it("says why a day's windows file could not be read, not that the day has none", () => {
    const days = [
      {
        day: '2025-03-09',
        rows: [counted('2025-03-09', 'US')],
        windows: null,
        windowsError: 'line 3: 4 fields, not 7 <b>',
      },
    ];
    const html = renderHtmlReport({ ...base, days });
    expect(html).toContain(
      "The day's <code>windows-2025-03-09.csv</code> could not be read: line 3: 4 fields, not 7 &lt;b&gt;",
    );
    expect(html).not.toContain('No <code>windows-2025-03-09.csv</code> for this day');
  });

  it("names why a site's range sum leaves days out: an ERROR day, a day without its row", () => {
    const days = [
      { day: '2025-03-07', rows: [counted('2025-03-07', 'US'), counted('2025-03-07', 'UNKNOWN')] },
      { day: '2025-03-08', rows: [counted('2025-03-08', 'US')] },
      {
        day: '2025-03-09',
        rows: [row({ date: '2025-03-09', site: 'US', status: 'ERROR', error: 'x' }), counted('2025-03-09', 'UNKNOWN')],
      },
    ];
    const html = renderHtmlReport({ ...base, days });
    expect(titleOfMatrixTotal(html, 'US')).toBe(
      'US: summed over 2 of 3 days (1 day ERROR, left out); ERROR on 2025-03-09',
    );
    expect(titleOfMatrixTotal(html, 'UNKNOWN')).toBe('UNKNOWN: summed over 2 of 3 days (no row on 1 day)');
  });

  it('is written in parts, a day of tables each, that make the same page', () => {
    const days = ['2025-03-07', '2025-03-08', '2025-03-09'].map((day) => ({
      day,
      rows: [counted(day, 'US')],
      windows: [],
    }));
    const chunks = [...htmlReportChunks({ ...base, days })];
    expect(chunks.join('')).toBe(renderHtmlReport({ ...base, days }));
    for (const day of ['2025-03-07', '2025-03-08', '2025-03-09']) {
      expect(chunks.filter((c) => c.includes(`<h3 id="day-${day}">`))).toHaveLength(1);
      expect(chunks.filter((c) => c.includes(`<figure class="strips" data-day="${day}">`))).toHaveLength(1);
    }
    // No part holds two days' tables.
    expect(chunks.filter((c) => (c.match(/<h3 id="day-/g) ?? []).length > 1)).toEqual([]);
  });

  it("names at most 18 lines at the trend's end, all within the chart, however many sites there are", () => {
    const sites = Array.from({ length: 40 }, (_, i) => `S${String(i).padStart(2, '0')}`);
    const days = ['2025-03-08', '2025-03-09'].map((day) => ({
      day,
      rows: [...sites, 'ALL'].map((site, i) => ({ ...counted(day, site), parity_pct: String(99 + i / 100) })),
    }));
    const html = renderHtmlReport({ ...base, sites, days });
    const ends = [...html.matchAll(/<text class="end-label" x="[\d.]+" y="([-\d.]+)"[^>]*>([^<]*)<\/text>/g)];
    expect(ends).toHaveLength(18);
    for (const [, y] of ends) expect(Number(y)).toBeGreaterThan(0);
    expect(ends.map((m) => m[2])).toContain('ALL');
    expect(ends.map((m) => m[2])).toContain('S00'); // the lowest line
    expect(html).toContain('Of 41 lines, 18 are named at their end');
  });
});
