import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { writeHtmlReport } from '../../jobs/finish.js';
import { runReconcile } from '../../jobs/reconcile.js';
import { loadConfig } from '../../src/config.js';
import type { IdFactGroup } from '../../src/domain.js';
import { attributeDay, type DayCounts } from '../../src/reconcile/attribute.js';
import { PARITY_COLUMNS, type ParityRow } from '../../src/report/columns.js';
import { renderParityCsv } from '../../src/report/csv.js';
import { type HtmlReportInput, renderHtmlReport } from '../../src/report/html/report.js';
import { LOSS_BANDS, lossBand } from '../../src/report/html/loss-strip.js';
import { summarizeDay } from '../../src/report/summary.js';
import { ROOT, tempDir, writeConfig, writeNdjson } from '../support/files.js';
import { factGroup } from '../support/builders.js';

/**
 * The HTML report from rows made by the real attribution (3 days × 3 sites, UNKNOWN, Kafka and
 * gcs configured, the last day unreadable), checked as text and then as a browser shows it:
 * headless Chromium renders a screenshot and the DOM it built.
 */

const CHROMIUM = '/usr/bin/chromium';
const WINDOW = { width: 1400, height: 2400 } as const;
const CHROMIUM_RUN_TIMEOUT_MS = 90_000;
/** Tall enough for the whole fixture report, day tables included. */
const TALL_WINDOW_HEIGHT = 6000;
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const SITES = ['US', 'CA', 'MX'];
const REGIONS = ['EUS2', 'SCUS'];
const THRESHOLDS = { warnPct: 99.9, failPct: 99 };
/** The BigQuery tier is not configured in the fixture: its columns are hidden in the HTML. */
const BQ_COLUMNS: string[] = ['bq_rows', 'bq_distinct', 'bq_malformed'];
const HOSTILE_ERROR =
  'gcs: gs://audit-api-logs-mx-prod/dt=2025-03-10/part-<script>alert("x")</script>&1.json.gz: not valid gzip';

/** How the ids of one day × site fared; every other count follows from these. */
interface SiteDay {
  ok: number;
  retried: number;
  lost413: number;
  lost502: number;
  lostOther: number;
  beforeKafka: number;
  inFlight: number;
  unexplained: number;
  afterReject: number;
  withoutProxy: number;
  unroutable: number;
  dupes: number;
  late: number;
}

const base: SiteDay = {
  ok: 0,
  retried: 0,
  lost413: 0,
  lost502: 0,
  lostOther: 0,
  beforeKafka: 0,
  inFlight: 0,
  unexplained: 0,
  afterReject: 0,
  withoutProxy: 0,
  unroutable: 0,
  dupes: 0,
  late: 0,
};

function facts(day: string, site: string, ids: number, f: Partial<IdFactGroup>): IdFactGroup {
  return factGroup(day, site, ids, { kafkaKnown: true, ...f });
}

/** One day's counts, consistent across tiers (attribution's identity checks must hold). */
function dayCounts(day: string, bySite: Record<string, Partial<SiteDay>>, gcsFailure?: string): DayCounts {
  const proxy: DayCounts['proxy'] = new Map();
  const gcs: NonNullable<DayCounts['gcs']> = new Map();
  const messages = new Map<string, Map<string, number>>();
  const groups: IdFactGroup[] = [];
  for (const [site, partial] of Object.entries(bySite)) {
    const s = { ...base, ...partial };
    const accepted = s.ok + s.retried + s.beforeKafka + s.inFlight + s.unexplained + s.unroutable;
    proxy.set(site, {
      lines: accepted + s.lost413 + s.lost502 + s.retried + s.afterReject + s.lostOther,
      accepted,
      rejected413: s.lost413,
      rejected502: s.lost502 + s.retried + s.afterReject,
    });
    const distinct = s.ok + s.retried + s.afterReject + s.withoutProxy;
    gcs.set(site, { records: distinct + s.dupes, distinct, late: s.late });
    const inKafka = s.ok + s.retried + s.inFlight + s.unexplained + s.afterReject + s.withoutProxy + s.unroutable;
    const eus2 = Math.round(inKafka * 0.6);
    messages.set(
      site,
      new Map([
        ['EUS2', eus2],
        ['SCUS', inKafka - eus2 + s.dupes],
      ]),
    );
    const landed = { inKafka: true, inGcs: true, inFinal: true };
    groups.push(
      facts(day, site, s.ok, { inProxy: true, accepted: true, ...landed }),
      facts(day, site, s.retried, { inProxy: true, accepted: true, rejected: true, ...landed }),
      facts(day, site, s.lost413, { inProxy: true, rejected: true, lastReject: '413' }),
      facts(day, site, s.lost502, { inProxy: true, rejected: true, lastReject: '502' }),
      facts(day, site, s.lostOther, { inProxy: true, rejected: true, lastReject: 'other' }),
      facts(day, site, s.beforeKafka, { inProxy: true, accepted: true }),
      facts(day, site, s.inFlight, { inProxy: true, accepted: true, inKafka: true, inFlight: true }),
      facts(day, site, s.unexplained, { inProxy: true, accepted: true, inKafka: true }),
      facts(day, site, s.afterReject, { inProxy: true, rejected: true, lastReject: '502', ...landed }),
      facts(day, site, s.withoutProxy, { ...landed }),
      facts(day, site, s.unroutable, { inProxy: true, accepted: true, inKafka: true, unroutable: true }),
    );
  }
  return {
    day,
    proxy,
    proxyIssues: new Map(),
    gcs: gcsFailure ? null : gcs,
    gcsIssues: new Map(),
    kafka: {
      messages,
      malformed: new Map(),
      expired: [],
      failed: [],
      offsetTotals: new Map(REGIONS.map((r) => [r, [...messages.values()].reduce((n, m) => n + (m.get(r) ?? 0), 0)])),
    },
    bigquery: null,
    groups: groups.filter((g) => g.ids > 0),
    failures: gcsFailure ? { gcs: gcsFailure } : {},
  };
}

const DAYS: DayCounts[] = [
  dayCounts('2025-03-08', {
    US: {
      ok: 1180,
      retried: 21,
      lost413: 64,
      lost502: 12,
      lostOther: 9,
      unexplained: 2,
      afterReject: 3,
      withoutProxy: 1,
      dupes: 48,
      late: 14,
    },
    CA: {
      ok: 940,
      retried: 15,
      lost413: 51,
      lost502: 8,
      lostOther: 4,
      inFlight: 1,
      afterReject: 2,
      dupes: 31,
      late: 9,
    },
    MX: {
      ok: 870,
      retried: 12,
      lost413: 47,
      lost502: 11,
      lostOther: 6,
      afterReject: 1,
      withoutProxy: 2,
      dupes: 40,
      late: 12,
    },
    UNKNOWN: { ok: 20, unroutable: 7, dupes: 1 },
  }),
  dayCounts('2025-03-09', {
    US: {
      ok: 1210,
      retried: 18,
      lost413: 70,
      lost502: 9,
      lostOther: 11,
      afterReject: 2,
      withoutProxy: 2,
      dupes: 52,
      late: 10,
    },
    CA: {
      ok: 915,
      retried: 14,
      lost413: 49,
      lost502: 10,
      lostOther: 5,
      beforeKafka: 24,
      unexplained: 1,
      afterReject: 1,
      dupes: 29,
      late: 7,
    },
    MX: {
      ok: 902,
      retried: 16,
      lost413: 55,
      lost502: 7,
      lostOther: 3,
      inFlight: 2,
      afterReject: 2,
      dupes: 35,
      late: 8,
    },
    UNKNOWN: { ok: 18, unroutable: 5 },
  }),
  dayCounts(
    '2025-03-10',
    {
      US: { ok: 1190, retried: 20, lost413: 66, lost502: 10, lostOther: 8, dupes: 40 },
      CA: { ok: 930, retried: 12, lost413: 48, lost502: 9, lostOther: 4, dupes: 30 },
      MX: { ok: 880, retried: 14, lost413: 52, lost502: 8, lostOther: 5, dupes: 33 },
    },
    HOSTILE_ERROR,
  ),
];

const OPTIONS = { sites: SITES, thresholds: THRESHOLDS, tiers: { gcs: true, kafka: REGIONS } };

function attributed(): HtmlReportInput {
  const days = DAYS.map((d) => {
    const { rows, warnings } = attributeDay(d, OPTIONS);
    expect(warnings).toEqual([]);
    return { day: d.day, rows };
  });
  return { title: 'Audit parity — integration fixture', days, sites: SITES, thresholds: THRESHOLDS };
}

const stripWbr = (html: string) => html.replaceAll('<wbr>', '');
const escapeHtml = (s: string) =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
const grouped = (n: number) => n.toLocaleString('en-US');
const allRow = (input: HtmlReportInput, day: string): ParityRow =>
  input.days.find((d) => d.day === day)!.rows.find((r) => r.site === 'ALL')!;

describe('the HTML report', () => {
  let input: HtmlReportInput;
  let html: string;

  beforeAll(() => {
    input = attributed();
    html = renderHtmlReport(input);
  });

  it('is built from rows whose statuses cover PASS, WARN, FAIL and ERROR', () => {
    const statuses = new Set(input.days.flatMap((d) => d.rows.map((r) => r.status)));
    expect([...statuses].sort()).toEqual(['ERROR', 'FAIL', 'PASS', 'WARN']);
    expect(input.days.map((d) => d.rows.map((r) => r.site))).toEqual([
      ['US', 'CA', 'MX', 'UNKNOWN', 'ALL'],
      ['US', 'CA', 'MX', 'UNKNOWN', 'ALL'],
      ['US', 'CA', 'MX', 'ALL'],
    ]);
  });

  it('renders byte-identical output for the same input, whatever the order of the days', () => {
    expect(renderHtmlReport(input)).toBe(html);
    expect(renderHtmlReport(structuredClone(input))).toBe(html);
    expect(renderHtmlReport({ ...input, days: [...input.days].reverse() })).toBe(html);
    expect(renderHtmlReport(attributed())).toBe(html);
  });

  it('is one self-contained file: no script, no external stylesheet, font, image or link', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|@import|url\(/i);
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:[a-z]+:|\/\/)/i);
    expect(html).toContain("default-src 'none'");
  });

  it('escapes an error message carrying markup and ampersands, everywhere it appears', () => {
    expect(html).toContain(escapeHtml(HOSTILE_ERROR));
    expect(html).not.toContain('alert("x")</script>');
    // Every & starts an entity: nothing raw slipped through, in text or in attributes.
    expect(html.match(/&(?![a-z]+;|#\d+;)/g)).toBeNull();
  });

  it('escapes site names in the matrix, the charts and the tables', () => {
    const site = '<script>alert(1)</script>&Co';
    const { rows } = attributeDay(dayCounts('2025-03-08', { [site]: { ok: 10, lost413: 1, dupes: 1 } }), {
      ...OPTIONS,
      sites: [site],
    });
    const out = renderHtmlReport({
      title: 'T & <b>',
      days: [{ day: '2025-03-08', rows }],
      sites: [site],
      thresholds: THRESHOLDS,
    });
    expect(out).not.toMatch(/<script/i);
    const escaped = escapeHtml(site);
    // Matrix header, waterfall caption and aria-label, trend legend and end label, table row.
    expect(out.split(escaped).length - 1).toBeGreaterThanOrEqual(6);
    expect(out).toContain('<title>T &amp; &lt;b&gt;');
    expect(out).toContain('<h1>T &amp; &lt;b&gt;</h1>');
    expect(out.match(/&(?![a-z]+;|#\d+;)/g)).toBeNull();
  });

  it('names every site, UNKNOWN and ALL, in the matrix, the waterfalls and the tables', () => {
    for (const site of [...SITES, 'UNKNOWN', 'ALL']) {
      expect(html).toContain(`<th scope="col"${site === 'ALL' ? ' class="all"' : ''}>${site}</th>`);
      expect(html).toContain(`<span class="site">${site}</span>`);
      expect(html).toContain(`<th scope="row" class="stick1">${site}</th>`);
    }
  });

  it("groups each day's columns in three tables (counts, causes, tiers) holding every column of the configured tiers once, each header titled with its definition", () => {
    const text = stripWbr(html);
    const headersOf = (chunk: string) =>
      [...chunk.matchAll(/<th scope="col" title="([^"]*)"[^>]*>([^<]*)<\/th>/g)].map((m) => [m[2]!, m[1]!] as const);
    for (const d of input.days) {
      const start = text.indexOf(`<h3 id="day-${d.day}">`);
      expect(start).toBeGreaterThan(0);
      const end =
        text.indexOf('<h3 ', start + 1) > 0 ? text.indexOf('<h3 ', start + 1) : text.indexOf('</section>', start);
      const day = text.slice(start, end);
      const tables = day.split('<table class="day">').slice(1);
      expect(tables.map((t) => /<caption>([^<]*)<\/caption>/.exec(t)![1])).toEqual([
        'Counts and verdict',
        'Causes',
        'Tiers and input',
      ]);
      // site heads every table's rows; every other column appears once, the contract's columns first and in order.
      const columns = tables.flatMap((t) => headersOf(t).map(([c]) => c));
      expect(columns.filter((c) => c === 'site')).toHaveLength(3);
      const once = columns.filter((c) => c !== 'site');
      expect(new Set(once).size).toBe(once.length);
      const expected = [
        ...PARITY_COLUMNS.map(([c]) => c).filter((c) => c !== 'site' && !BQ_COLUMNS.includes(c)),
        ...REGIONS.map((r) => `kafka_${r.toLowerCase()}`),
      ];
      expect([...once].sort()).toEqual([...expected].sort());
      const contract = PARITY_COLUMNS.slice(0, PARITY_COLUMNS.findIndex(([c]) => c === 'status') + 1).map(([c]) => c);
      expect(headersOf(tables[0]!).map(([c]) => c)).toEqual([
        ...contract.filter((c) => !BQ_COLUMNS.includes(c)),
        'status_reason',
      ]);
      for (const [c, title] of tables.flatMap(headersOf)) {
        const doc = PARITY_COLUMNS.find(([name]) => name === c)?.[1];
        expect(title).toEqual(
          doc !== undefined ? escapeHtml(`${c}: ${doc}`) : expect.stringContaining('Kafka cluster'),
        );
      }
    }
  });

  it('hides the columns of a tier no row has (bigquery here) in the HTML and says so, while the CSV keeps them', () => {
    const text = stripWbr(html);
    for (const c of BQ_COLUMNS) expect(text).not.toContain(`title="${c}: `);
    expect(text).toContain(
      'left out here (the CSV keeps them, empty): <code>bq_rows</code>, <code>bq_distinct</code>, <code>bq_malformed</code>',
    );
    const header = renderParityCsv(input.days[0]!.rows).split('\r\n')[0]!.split(',');
    for (const c of BQ_COLUMNS) expect(header).toContain(c);
  });

  it("shows in its header, per day, the worst status across the rows (not the ALL row's) and the rows behind it, escaped", () => {
    const rank = ['PASS', 'WARN', 'NO_DATA', 'FAIL', 'ERROR'];
    const start = html.indexOf('<table class="verdicts">');
    const header = html.slice(start, html.indexOf('</header>'));
    expect(start).toBeGreaterThan(0);
    let differs = 0;
    for (const d of input.days) {
      const worst = d.rows
        .map((r) => String(r.status))
        .reduce((w, x) => (rank.indexOf(x) > rank.indexOf(w) ? x : w), 'PASS');
      if (worst !== allRow(input, d.day).status) differs++;
      const line = header.slice(
        header.indexOf(`#day-${d.day}"`),
        header.indexOf('</tr>', header.indexOf(`#day-${d.day}"`)),
      );
      expect(line).toContain(`class="badge s-${worst}"`);
      const v = summarizeDay(d.rows);
      expect(line).toContain(escapeHtml(v.text.slice(v.status.length + 2)));
      // The day's heading says the same.
      expect(html).toContain(`<h3 id="day-${d.day}">${d.day} <span class="badge s-${worst}"`);
    }
    // The fixture holds a day whose ALL row hides a worse row: the header must not repeat ALL's status.
    expect(differs).toBeGreaterThan(0);
    expect(header).not.toContain('<script>');
  });

  it('colours status cells and writes the status as text; empty cells are a dash that says why', () => {
    for (const s of ['PASS', 'WARN', 'FAIL', 'ERROR'])
      expect(html).toMatch(new RegExp(`<span class="badge s-${s}" title="[^"]+">${s}</span>`));
    expect(html).not.toContain('<td class="empty" title="empty: the bigquery tier is not configured">–</td>');
    expect(html).toContain(`<td class="empty" title="${escapeHtml(`empty: not counted — ${HOSTILE_ERROR}`)}">–</td>`);
    expect(html).toContain('<td class="empty" title="no error: every tier was read">–</td>');
  });

  it("grades the range's line of the matrix no better than its worst day: a site with a WARN, NO_DATA or ERROR day is never PASS there", () => {
    const rank = ['PASS', 'WARN', 'NO_DATA', 'FAIL', 'ERROR'];
    const seen = new Set<string>();
    for (const site of SITES) {
      const statuses = input.days.flatMap((d) => d.rows.filter((r) => r.site === site).map((r) => String(r.status)));
      const worst = statuses.reduce((w, x) => (rank.indexOf(x) > rank.indexOf(w) ? x : w), 'PASS');
      const cell = new RegExp(
        `title="${site}: summed over [^"]*?(; ${worst} on [^"]+)?"><span class="badge s-(\\w+)"`,
      ).exec(html);
      expect([site, cell?.[2]]).toEqual([site, worst]);
      // The days behind a status the sums alone would not give are named in the cell's title.
      if (worst !== 'PASS') expect(cell?.[1]).toBeDefined();
      seen.add(worst);
    }
    // The fixture has sites whose worst day is not PASS, so this is not a PASS-only check.
    expect([...seen].some((x) => x !== 'PASS')).toBe(true);
  });

  it('sums the waterfalls over the days without ERROR and says so', () => {
    expect(html).toContain('summed over the range');
    expect(html).toContain('Left out (ERROR): 2025-03-10');
    const [d1, d2] = [allRow(input, '2025-03-08'), allRow(input, '2025-03-09')];
    const sum = (c: keyof ParityRow) => (d1[c] as number) + (d2[c] as number);
    // The ALL waterfall: requests, each cause, and the landed ids, with their counts.
    const start = html.indexOf('<figcaption><span class="site">ALL</span>');
    const all = html.slice(start, html.indexOf('</figure>', start));
    expect(start).toBeGreaterThan(0);
    expect(all).toContain(`>${grouped(sum('proxy_requests'))}</text>`);
    expect(all).toContain(`>−${grouped(sum('rejected_413'))}</text>`);
    expect(all).toContain(`>−${grouped(sum('lost_before_kafka'))}</text>`);
    expect(all).toContain(`>−${grouped(sum('unknown_site'))}</text>`);
    expect(all).toContain(`>−${grouped(sum('missing_unexplained'))}</text>`);
    expect(all).toContain(`>${grouped(sum('gcs_distinct'))}</text>`);
    expect(all).toContain(`>${grouped(sum('kafka_records'))}</text>`);
  });
});

describe('the HTML report in headless Chromium', () => {
  let dir: string;
  let htmlFile: string;
  let input: HtmlReportInput;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) await run('bash', [path.join(ROOT, 'scripts/install-chromium.sh')], INSTALL_TIMEOUT_MS);
    // Never skipped: a machine without Chromium fails here, with the script's output above.
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is still missing after scripts/install-chromium.sh`);
    dir = await tempDir('parity-html-');
    input = attributed();
    htmlFile = path.join(dir, 'report.html');
    await writeFile(htmlFile, renderHtmlReport(input));
  }, INSTALL_TIMEOUT_MS + 60_000);

  it(
    'screenshots to a valid, non-blank PNG of the window size, with the status colours on it',
    async () => {
      const png = path.join(dir, 'report.png');
      const blank = path.join(dir, 'blank.png');
      const blankHtml = path.join(dir, 'blank.html');
      await writeFile(blankHtml, '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>');
      await chromium(dir, [`--screenshot=${png}`, pathToFileURL(htmlFile).href]);
      await chromium(dir, [`--screenshot=${blank}`, pathToFileURL(blankHtml).href]);
      const bytes = await readFile(png);
      expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      const image = decodePng(bytes);
      expect([image.width, image.height]).toEqual([WINDOW.width, WINDOW.height]);
      // A blank page of the same size compresses to almost nothing; the report does not.
      const blankSize = (await stat(blank)).size;
      expect(bytes.length).toBeGreaterThan(10 * blankSize);
      const blankImage = decodePng(await readFile(blank));
      expect(distinctColours(blankImage)).toBeLessThanOrEqual(2);
      // Painted, not merely present: many colours, and the badge fills of the statuses in the matrix.
      expect(distinctColours(image)).toBeGreaterThan(200);
      for (const [status, rgb] of [
        ['PASS', 0xd8f0df],
        ['WARN', 0xffefb8],
        ['FAIL', 0xfbd3cf],
        ['ERROR', 0x5b3a8c],
      ] as const) {
        expect([status, countColour(image, rgb) > 100]).toEqual([status, true]);
      }
      if (process.env.HTML_REPORT_SCREENSHOT_DIR) {
        await mkdir(process.env.HTML_REPORT_SCREENSHOT_DIR, { recursive: true });
        await copyFile(png, path.join(process.env.HTML_REPORT_SCREENSHOT_DIR, 'html-report.png'));
        await copyFile(htmlFile, path.join(process.env.HTML_REPORT_SCREENSHOT_DIR, 'html-report.html'));
      }
    },
    4 * CHROMIUM_RUN_TIMEOUT_MS,
  );

  it(
    'lays every column of every day table out inside the 1400 px window, with no table needing to scroll',
    async () => {
      // A measuring copy: the report's own CSP forbids scripts, so this copy drops it and appends one
      // that writes each day table's layout into the DOM, which --dump-dom then returns.
      const measured = path.join(dir, 'measured.html');
      const probe = `<script>(() => {
      const width = document.documentElement.clientWidth;
      const tables = [...document.querySelectorAll('table.day')].map((t) => {
        const heads = [...t.querySelectorAll('thead th')];
        return {
          caption: t.caption ? t.caption.textContent : '',
          scrolls: t.parentElement.scrollWidth > t.parentElement.clientWidth,
          right: Math.max(...heads.map((h) => h.getBoundingClientRect().right)),
          columns: heads.map((h) => h.textContent),
        };
      });
      const pre = document.createElement('pre');
      pre.id = 'measure';
      pre.textContent = JSON.stringify({ width, tables });
      document.body.appendChild(pre);
    })();</script>`;
      const source = renderHtmlReport(input)
        .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
        .replace('</body>', `${probe}</body>`);
      await writeFile(measured, source);
      const { stdout: dom } = await chromium(dir, ['--dump-dom', pathToFileURL(measured).href]);
      const json = /<pre id="measure">([^<]*)<\/pre>/.exec(dom)?.[1];
      expect(json).toBeDefined();
      const layout = JSON.parse(json!.replaceAll('&quot;', '"').replaceAll('&amp;', '&')) as {
        width: number;
        tables: { caption: string; scrolls: boolean; right: number; columns: string[] }[];
      };
      expect(layout.width).toBeGreaterThan(1300);
      expect(layout.tables).toHaveLength(3 * input.days.length);
      for (const t of layout.tables)
        expect([t.caption, t.scrolls, t.right <= layout.width]).toEqual([t.caption, false, true]);
      // Together a day's tables hold every column the report shows.
      const firstDay = new Set(layout.tables.slice(0, 3).flatMap((t) => t.columns));
      for (const c of [
        ...PARITY_COLUMNS.map(([name]) => name).filter((c) => !BQ_COLUMNS.includes(c)),
        'kafka_eus2',
        'kafka_scus',
      ])
        expect([c, firstDay.has(c)]).toEqual([c, true]);
      // A screenshot tall enough to hold the day tables, for a person to look at.
      const png = path.join(dir, 'tables.png');
      await chromium(dir, [`--screenshot=${png}`, pathToFileURL(htmlFile).href], TALL_WINDOW_HEIGHT);
      const image = decodePng(await readFile(png));
      expect([image.width, image.height]).toEqual([WINDOW.width, TALL_WINDOW_HEIGHT]);
      if (process.env.HTML_REPORT_SCREENSHOT_DIR)
        await copyFile(png, path.join(process.env.HTML_REPORT_SCREENSHOT_DIR, 'html-report-tables.png'));
    },
    3 * CHROMIUM_RUN_TIMEOUT_MS,
  );

  it(
    'builds a DOM holding the sites, the numbers and the escaped error, and no script',
    async () => {
      const { stdout: dom } = await chromium(dir, ['--dump-dom', pathToFileURL(htmlFile).href]);
      expect(dom).toContain('</html>');
      expect(dom).not.toMatch(/<script/i);
      for (const site of [...SITES, 'UNKNOWN', 'ALL']) expect(dom).toContain(`>${site}</th>`);
      for (const d of input.days) {
        for (const r of d.rows) {
          expect(dom).toContain(`>${grouped(r.proxy_requests as number)}</td>`);
          if (r.parity_pct !== null) expect(dom).toContain(`>${String(r.parity_pct)}</td>`);
        }
      }
      // The browser read the error as text: it serialises it back escaped.
      expect(dom).toContain('part-&lt;script&gt;alert("x")&lt;/script&gt;&amp;1.json.gz');
    },
    2 * CHROMIUM_RUN_TIMEOUT_MS,
  );
});

describe('the loss-window strip of a run with an injected outage, in headless Chromium', () => {
  const DAY = '2025-03-09';
  const ZONE = 'America/Chicago';
  const QUARTER_MS = 15 * 60 * 1000;
  // 14:14 to 14:34 CDT (-05:00 on this spring-forward day): it touches 14:00, 14:15 and 14:30.
  const OUTAGE_FROM = Date.parse('2025-03-09T19:14:00Z');
  const OUTAGE_TO = Date.parse('2025-03-09T19:34:00Z');
  let dir: string;
  let reportFile: string;
  /** What the injected ids say each lossy US bucket holds: start → accepted, missing. */
  const expected = new Map<number, { accepted: number; missing: number }>();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) await run('bash', [path.join(ROOT, 'scripts/install-chromium.sh')], INSTALL_TIMEOUT_MS);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is still missing after scripts/install-chromium.sh`);
    dir = await tempDir('parity-html-strip-');
    // One accepted request per site every 20 s from 12:00 to 17:00 CDT; the US ones accepted in the outage
    // never land (a hostile id among them), CA loses nothing.
    const proxy: object[] = [];
    const landed: object[] = [];
    const start = Date.parse('2025-03-09T17:00:00Z');
    for (let i = 0; i < 5 * 180; i++) {
      const ms = start + i * 20_000;
      for (const site of ['US', 'CA']) {
        const id = i === 410 && site === 'US' ? `<script>alert("x")</script>=${i}` : `${site}-${i}`;
        const rec = { timestamp: new Date(ms).toISOString(), request_id: id, site };
        proxy.push({ ...rec, status: 200 });
        const lost = site === 'US' && ms >= OUTAGE_FROM && ms < OUTAGE_TO;
        if (!lost) landed.push(rec);
        if (site !== 'US') continue;
        const bucket = Math.floor(ms / QUARTER_MS) * QUARTER_MS;
        const e = expected.get(bucket) ?? { accepted: 0, missing: 0 };
        e.accepted++;
        if (lost) e.missing++;
        expected.set(bucket, e);
      }
    }
    for (const [bucket, e] of expected) if (e.missing === 0) expected.delete(bucket);
    await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), proxy);
    await writeNdjson(path.join(dir, `landed/dt=${DAY}/a.jsonl`), landed);
    const config = await loadConfig(await writeConfig(dir, { timezone: ZONE, sites: ['US', 'CA'] }));
    const out = path.join(dir, 'out');
    const result = await runReconcile({ config, days: [DAY], outDir: out });
    reportFile = (await writeHtmlReport(result, config, out, 'reconcile'))!;
    expect(reportFile).toBe(path.join(out, `report-${DAY}_${DAY}.html`));
  }, INSTALL_TIMEOUT_MS + 60_000);

  it(
    "colours exactly the outage's quarter hours by their missing share, labels the worst, and screenshots them so",
    async () => {
      // The run's report, read back from its windows file: three US buckets, CA none.
      expect([...expected.keys()].map((ms) => new Date(ms).toISOString())).toEqual([
        '2025-03-09T19:00:00.000Z',
        '2025-03-09T19:15:00.000Z',
        '2025-03-09T19:30:00.000Z',
      ]);
      const probe = `<script>(() => {
      const strips = [...document.querySelectorAll('div.strip')].map((f) => ({
        site: f.dataset.site,
        label: f.querySelector('.worst-label').textContent,
        buckets: [...f.querySelectorAll('.buckets .q')].map((q) => {
          const r = q.getBoundingClientRect();
          return { start: Number(q.dataset.start), cls: q.className, title: q.title,
            aria: q.getAttribute('aria-label'), x: r.x, y: r.y, w: r.width, h: r.height };
        }),
      }));
      const pre = document.createElement('pre');
      pre.id = 'measure';
      pre.style.whiteSpace = 'pre-wrap';
      pre.textContent = JSON.stringify({ scrollY: window.scrollY, ratio: window.devicePixelRatio, strips });
      document.body.appendChild(pre);
    })();</script>`;
      const measured = path.join(dir, 'strip-measured.html');
      await writeFile(
        measured,
        (await readFile(reportFile, 'utf8'))
          .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
          .replace('</body>', `${probe}</body>`),
      );
      const { stdout: dom } = await chromium(dir, ['--dump-dom', pathToFileURL(measured).href]);
      const json = /<pre id="measure"[^>]*>([^<]*)<\/pre>/.exec(dom)?.[1];
      expect(json).toBeDefined();
      const layout = JSON.parse(
        json!.replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&'),
      ) as {
        scrollY: number;
        ratio: number;
        strips: {
          site: string;
          label: string;
          buckets: {
            start: number;
            cls: string;
            title: string;
            aria: string;
            x: number;
            y: number;
            w: number;
            h: number;
          }[];
        }[];
      };
      expect([layout.scrollY, layout.ratio]).toEqual([0, 1]);
      expect(layout.strips.map((s) => [s.site, s.buckets.length])).toEqual([
        ['US', 92],
        ['CA', 92],
      ]);
      const [us, ca] = layout.strips as [(typeof layout.strips)[0], (typeof layout.strips)[0]];
      const coloured = (s: typeof us) => s.buckets.filter((b) => !b.cls.split(' ').includes('q0'));
      expect(coloured(us).map((b) => b.start)).toEqual([...expected.keys()]);
      expect(coloured(ca)).toEqual([]);
      // Each coloured bucket's band is its share of the injected ids; every bucket is titled for a screen reader.
      for (const b of coloured(us)) {
        const e = expected.get(b.start)!;
        expect(b.cls).toContain(`q${lossBand(e.missing, e.accepted)}`);
        expect(b.title).toContain(`${e.missing} missing of ${e.accepted} accepted`);
      }
      for (const b of [...us.buckets, ...ca.buckets]) expect([b.title.length > 0, b.aria]).toEqual([true, b.title]);
      // The worst window: 14:15 lost all 45 of its ids.
      const worst = [...expected].reduce((w, x) => (x[1].missing > w[1].missing ? x : w));
      expect(new Date(worst[0]).toISOString()).toBe('2025-03-09T19:15:00.000Z');
      expect(us.label).toBe(
        `Worst 14:15 (-05:00)–14:30 (-05:00): ${worst[1].missing} missing of ${worst[1].accepted} accepted (100 %), cause unexplained`,
      );
      expect(ca.label).toBe('Lost nothing in any quarter hour.');
      expect(us.buckets.filter((b) => b.cls.includes('worst')).map((b) => b.start)).toEqual([worst[0]]);

      // The screenshot shows it: the pixel at the middle of every bucket has its band's colour.
      const png = path.join(dir, 'strip.png');
      await chromium(dir, [`--screenshot=${png}`, pathToFileURL(measured).href]);
      const bytes = await readFile(png);
      expect(bytes.length).toBeGreaterThan(1000);
      expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      const image = decodePng(bytes);
      const colourAt = (x: number, y: number) => image.rgb.readUIntBE((y * image.width + x) * 3, 3);
      const near = (a: number, b: number) =>
        [16, 8, 0].every((s) => Math.abs(((a >> s) & 0xff) - ((b >> s) & 0xff)) <= 2);
      for (const b of [...us.buckets, ...ca.buckets]) {
        const [x, y] = [Math.floor(b.x + b.w / 2) - 1, Math.floor(b.y + b.h / 2)];
        expect(y).toBeLessThan(image.height);
        const band = Number(/q(\d)/.exec(b.cls.split(' ')[1]!)![1]);
        const want = parseInt(LOSS_BANDS[band]!.colour.slice(1), 16);
        expect([b.start, near(colourAt(x, y), want)]).toEqual([b.start, true]);
      }
      if (process.env.HTML_REPORT_SCREENSHOT_DIR) {
        await mkdir(process.env.HTML_REPORT_SCREENSHOT_DIR, { recursive: true });
        await copyFile(png, path.join(process.env.HTML_REPORT_SCREENSHOT_DIR, 'html-report-strip.png'));
      }
    },
    3 * CHROMIUM_RUN_TIMEOUT_MS,
  );
});

/** One headless Chromium run, with a profile of its own so runs never share state; WINDOW unless told a taller window. */
async function chromium(
  dir: string,
  args: string[],
  windowHeight: number = WINDOW.height,
): Promise<{ stdout: string; stderr: string }> {
  const profile = await mkdtemp(path.join(dir, 'profile-'));
  return run(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      `--window-size=${WINDOW.width},${windowHeight}`,
      ...args,
    ],
    CHROMIUM_RUN_TIMEOUT_MS,
  );
}

function run(cmd: string, args: string[], timeout: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

interface Image {
  width: number;
  height: number;
  /** RGB, 3 bytes a pixel, row after row. */
  rgb: Buffer;
}

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes): enough to look at its pixels. */
function decodePng(png: Buffer): Image {
  let offset = 8;
  let width = 0;
  let height = 0;
  let colourType = -1;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0)
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
      colourType = colour;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const bpp = colourType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? pixels[y * stride + x - bpp]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? pixels[(y - 1) * stride + x - bpp]! : 0;
      const predictor =
        filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
      pixels[y * stride + x] = (line[x]! + predictor) & 0xff;
    }
  }
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) pixels.copy(rgb, i * 3, i * bpp, i * bpp + 3);
  return { width, height, rgb };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function distinctColours(image: Image): number {
  const seen = new Set<number>();
  for (let i = 0; i < image.rgb.length; i += 3) seen.add(image.rgb.readUIntBE(i, 3));
  return seen.size;
}

/** Pixels within 2 per channel of `rgb`: exact fills, allowing for colour management rounding. */
function countColour(image: Image, rgb: number): number {
  const [r, g, b] = [(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff];
  let n = 0;
  for (let i = 0; i < image.rgb.length; i += 3) {
    if (
      Math.abs(image.rgb[i]! - r) <= 2 &&
      Math.abs(image.rgb[i + 1]! - g) <= 2 &&
      Math.abs(image.rgb[i + 2]! - b) <= 2
    )
      n++;
  }
  return n;
}
