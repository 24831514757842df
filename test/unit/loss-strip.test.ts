import type { LossWindow } from '../../src/domain.js';
import { renderWindowsCsv } from '../../src/report/csv.js';
import { renderHtmlReport } from '../../src/report/html/report.js';
import { LOSS_BANDS, lossBand, renderLossStrips, STRIP_CSS, stripBuckets } from '../../src/report/html/loss-strip.js';
import { parseWindowsCsv } from '../../src/report/windows-reader.js';

const CHICAGO = 'America/Chicago';
const QUARTER_MS = 15 * 60 * 1000;
const HOSTILE_SITE = '<script>alert("x")</script>&\'=1';

const win = (site: string, iso: string, accepted: number, landed: number, cause = 'lost_before_kafka'): LossWindow => ({
  site,
  startMs: Date.parse(iso),
  accepted,
  landed,
  missing: accepted - landed,
  leadingCause: cause as LossWindow['leadingCause'],
});

/** The strip of one site in rendered HTML: its bucket spans, in order. */
function bucketsOf(html: string, site: string, day: string): { cls: string; title: string; start: number }[] {
  const start = html.indexOf(`<div class="strip" data-site="${site}" data-day="${day}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  const figure = html.slice(start, html.indexOf('</p>\n</div>', start) + 5);
  return [
    ...figure.matchAll(/<span class="(q q\d[^"]*)" role="img" title="([^"]*)" aria-label="\2" data-start="(\d+)">/g),
  ].map((m) => ({ cls: m[1]!, title: m[2]!, start: Number(m[3]) }));
}

const labelOf = (html: string, site: string, day: string) => {
  const start = html.indexOf(`<div class="strip" data-site="${site}" data-day="${day}"`);
  return /<p class="worst-label">(.*)<\/p>/.exec(html.slice(start, html.indexOf('</p>\n</div>', start) + 5))![1]!;
};

describe('the loss-window strip', () => {
  test('has 92 quarter hours on the spring-forward day in Chicago, 100 on the fall-back day and 96 otherwise', () => {
    expect(stripBuckets('2025-03-09', CHICAGO, [])).toHaveLength(92);
    expect(stripBuckets('2025-11-02', CHICAGO, [])).toHaveLength(100);
    expect(stripBuckets('2025-03-10', CHICAGO, [])).toHaveLength(96);
    // The same date in a zone without DST that day is a plain 96.
    expect(stripBuckets('2025-03-09', 'UTC', [])).toHaveLength(96);
    const html = renderLossStrips(
      [
        { day: '2025-03-09', rows: [{ site: 'US' } as never], windows: [] },
        { day: '2025-11-02', rows: [], windows: [win('US', '2025-11-02T06:00:00Z', 4, 3)] },
      ],
      ['US'],
      () => CHICAGO,
    );
    expect(bucketsOf(html, 'US', '2025-03-09')).toHaveLength(92);
    expect(bucketsOf(html, 'US', '2025-11-02')).toHaveLength(100);
  });

  test('runs from the midnight of the site zone, a bucket per quarter hour, placing each window at its start', () => {
    // 02:00 CST does not exist on 2025-03-09: 01:45 CST (07:45Z) is followed by 03:00 CDT (08:00Z).
    const buckets = stripBuckets('2025-03-09', CHICAGO, [win('US', '2025-03-09T08:00:00Z', 10, 0)]);
    expect(buckets[0]!.startMs).toBe(Date.parse('2025-03-09T06:00:00Z'));
    expect(buckets.at(-1)!.endMs).toBe(Date.parse('2025-03-10T05:00:00Z'));
    expect(buckets.every((b, i) => i === 0 || b.startMs === buckets[i - 1]!.endMs)).toBe(true);
    expect(buckets.filter((b) => b.window).map((b) => b.startMs)).toEqual([Date.parse('2025-03-09T08:00:00Z')]);
    const html = renderLossStrips(
      [{ day: '2025-03-09', rows: [], windows: [win('US', '2025-03-09T08:00:00Z', 10, 0)] }],
      ['US'],
      () => CHICAGO,
    );
    // On a DST day a time is told with its offset.
    expect(bucketsOf(html, 'US', '2025-03-09')[8]!.title).toBe(
      'US 2025-03-09 03:00 (-05:00)–03:15 (-05:00): 10 missing of 10 accepted (100 %), cause lost_before_kafka',
    );
    expect(bucketsOf(html, 'US', '2025-03-09')[7]!.title).toBe(
      'US 2025-03-09 01:45 (-06:00)–03:00 (-05:00): nothing lost',
    );
  });

  test("runs each site's strip over its own zone's day: 23:30 in Mexico City is MX's last hour while Chicago's next day", () => {
    const zones: Record<string, string> = { US: CHICAGO, MX: 'America/Mexico_City' };
    const late = win('MX', '2025-07-16T05:30:00Z', 4, 1);
    const html = renderLossStrips([{ day: '2025-07-15', rows: [], windows: [late] }], ['US', 'MX'], (s) => zones[s]!);
    const mx = bucketsOf(html, 'MX', '2025-07-15');
    expect(mx).toHaveLength(96);
    expect(mx[0]!.start).toBe(Date.parse('2025-07-15T06:00:00Z'));
    expect(mx.filter((b) => b.cls !== 'q q0').map((b) => [mx.indexOf(b), b.title])).toEqual([
      [94, 'MX 2025-07-15 23:30–23:45: 3 missing of 4 accepted (75.0 %), cause lost_before_kafka'],
    ]);
    // The same instant is 00:30 on the 16th in Chicago: US's strip of the 15th does not hold it.
    expect(stripBuckets('2025-07-15', CHICAGO, [{ ...late, site: 'US' }]).filter((b) => b.window)).toEqual([]);
  });

  test('colours a bucket by its missing share and leaves a bucket absent from the windows uncoloured', () => {
    expect([lossBand(0, 10), lossBand(1, 100), lossBand(2, 100), lossBand(10, 100), lossBand(11, 100)]).toEqual([
      0, 1, 2, 2, 3,
    ]);
    expect([lossBand(50, 100), lossBand(51, 100), lossBand(100, 100)]).toEqual([3, 4, 4]);
    const windows = [
      win('US', '2025-03-10T15:00:00Z', 1000, 995, 'in_flight'),
      win('US', '2025-03-10T15:15:00Z', 100, 95),
      win('US', '2025-03-10T15:30:00Z', 100, 70),
      win('US', '2025-03-10T15:45:00Z', 100, 0),
    ];
    const html = renderLossStrips([{ day: '2025-03-10', rows: [], windows }], ['US'], () => 'UTC');
    const buckets = bucketsOf(html, 'US', '2025-03-10');
    expect(buckets).toHaveLength(96);
    const coloured = buckets.filter((b) => !b.cls.startsWith('q q0'));
    expect(coloured.map((b) => [b.start, b.cls])).toEqual([
      [Date.parse('2025-03-10T15:00:00Z'), 'q q1'],
      [Date.parse('2025-03-10T15:15:00Z'), 'q q2'],
      [Date.parse('2025-03-10T15:30:00Z'), 'q q3'],
      [Date.parse('2025-03-10T15:45:00Z'), 'q q4 worst'],
    ]);
    for (const b of LOSS_BANDS) expect(STRIP_CSS).toContain(`.q${b.band}{background:${b.colour}}`);
  });

  test('labels each site strip with its worst window: time range, missing count of accepted, leading cause', () => {
    const windows = [
      win('US', '2025-03-10T14:00:00Z', 30, 10, 'unexplained'),
      win('US', '2025-03-10T14:15:00Z', 2104, 0),
      win('US', '2025-03-10T18:00:00Z', 2104, 1000),
      win('CA', '2025-03-10T01:00:00Z', 5, 4, 'in_flight'),
    ];
    const html = renderLossStrips([{ day: '2025-03-10', rows: [], windows }], ['US', 'CA', 'MX'], () => 'UTC');
    // The most missing ids; 2,104 both times, the earlier wins.
    expect(labelOf(html, 'US', '2025-03-10')).toBe(
      'Worst <b>14:15–14:30</b>: 2,104 missing of 2,104 accepted (100 %), cause <code>lost_before_kafka</code>',
    );
    expect(labelOf(html, 'CA', '2025-03-10')).toBe(
      'Worst <b>01:00–01:15</b>: 1 missing of 5 accepted (20.0 %), cause <code>in_flight</code>',
    );
    expect(bucketsOf(html, 'US', '2025-03-10').filter((b) => b.cls.includes('worst'))).toHaveLength(1);
    // Sites in report order, and only those with a row or a window that day.
    expect([...html.matchAll(/data-site="([^"]*)"/g)].map((m) => m[1])).toEqual(['US', 'CA']);
  });

  test('says a day without a windows file has none, and a day that lost nothing lost nothing', () => {
    const html = renderLossStrips(
      [
        { day: '2025-03-10', rows: [], windows: null },
        { day: '2025-03-11', rows: [{ site: 'US' } as never, { site: 'ALL' } as never], windows: [] },
      ],
      ['US', 'ALL'],
      () => 'UTC',
    );
    expect(html).toContain('No <code>windows-2025-03-10.csv</code> for this day');
    expect(html).not.toMatch(/class="strip" [^>]*data-day="2025-03-10"/);
    expect(labelOf(html, 'US', '2025-03-11')).toBe('Lost nothing in any quarter hour.');
    expect(html).not.toContain('data-site="ALL"');
    // A day read back that was cut in another zone: its windows outside this zone's day are said, not dropped
    // (before 0.3.7 the strip showed fewer missing than the row, or "Lost nothing" beside a FAIL).
    const window = (startMs: number, missing: number) =>
      ({
        site: 'US',
        startMs,
        accepted: 10,
        landed: 10 - missing,
        missing,
        leadingCause: 'missing_unexplained',
      }) as never;
    const early = Date.parse('2025-03-11T00:00:00Z');
    const strips = renderLossStrips(
      [
        {
          day: '2025-03-11',
          rows: [{ site: 'US' } as never],
          windows: [window(early - 3_600_000, 3), window(early, 1)],
        },
      ],
      ['US'],
      () => 'UTC',
    );
    expect(labelOf(strips, 'US', '2025-03-11')).toMatch(
      /cause <code>missing_unexplained<\/code>\. 3 missing in quarter hours outside this day in UTC\.$/,
    );
    const outsideOnly = renderLossStrips(
      [{ day: '2025-03-11', rows: [{ site: 'US' } as never], windows: [window(early - 3_600_000, 3)] }],
      ['US'],
      () => 'UTC',
    );
    expect(labelOf(outsideOnly, 'US', '2025-03-11')).toBe(
      "Nothing lost in this day's quarter hours; 3 missing in quarter hours outside this day in UTC.",
    );
    expect(bucketsOf(html, 'US', '2025-03-11').every((b) => b.cls === 'q q0')).toBe(true);
  });

  test('is left out of a report whose days carry no windows, and escapes every text taken from the data', () => {
    const base = { title: 't', sites: ['US'], thresholds: { warnPct: 99.9, failPct: 99 } };
    expect(renderHtmlReport({ ...base, days: [{ day: '2025-03-10', rows: [] }] })).not.toContain(
      '<h2>Loss windows</h2>',
    );
    const html = renderHtmlReport({
      ...base,
      sites: [HOSTILE_SITE],
      days: [{ day: '2025-03-10', rows: [], windows: [win(HOSTILE_SITE, '2025-03-10T14:00:00Z', 3, 1)] }],
      zoneOf: (site) => (site === HOSTILE_SITE ? 'Asia/Kolkata' : 'UTC'),
    });
    expect(html).toContain('<h2>Loss windows</h2>');
    expect(html).not.toContain('<script>');
    expect(html.match(/&(?![a-z]+;|#\d+;)/g)).toBeNull();
    const escaped = HOSTILE_SITE.replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&#39;');
    expect(html).toContain(`<span class="site">${escaped}</span>`);
    // The site's own zone: 14:00Z is 19:30 in Kolkata.
    expect(labelOf(html, escaped, '2025-03-10')).toContain('<b>19:30–19:45</b>');
  });
});

describe('windows-DAY.csv read back', () => {
  test('gives back the windows it was written from, formula guard and hostile site included', () => {
    const windows = [
      win(HOSTILE_SITE, '2025-03-09T19:00:00Z', 15, 0),
      win('US', '2025-03-09T19:15:00Z', 15, 10, 'unexplained'),
    ];
    for (const formulaGuard of [true, false]) {
      const text = renderWindowsCsv('2025-03-09', windows, { formulaGuard }, CHICAGO);
      expect(parseWindowsCsv(text, formulaGuard)).toEqual(windows);
    }
    expect(parseWindowsCsv(renderWindowsCsv('2025-03-09', [], { formulaGuard: true }, CHICAGO), true)).toEqual([]);
    expect(windows[1]!.startMs - windows[0]!.startMs).toBe(QUARTER_MS);
  });

  test('refuses a file that is not one this job writes, naming what is wrong', () => {
    expect(() => parseWindowsCsv('date,site\r\n2025-03-09,US\r\n', false)).toThrow('not a windows file: header');
    const good = renderWindowsCsv(
      '2025-03-09',
      [win('US', '2025-03-09T19:00:00Z', 15, 0)],
      { formulaGuard: false },
      'UTC',
    );
    expect(() => parseWindowsCsv(good.replace('lost_before_kafka', 'made_up'), false)).toThrow('line 2');
    expect(() => parseWindowsCsv(good.replace(',15,', ',-15,'), false)).toThrow('line 2');
  });
});
