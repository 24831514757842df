import { parse } from 'csv-parse/sync';
import { ALERT_MAX_CHARS, buildAlert } from '../../src/alerts/webhook.js';
import { addDays } from '../../src/dates.js';
import { progressBar } from '../../src/log/logger.js';
import { PARITY_HEADER, type ParityRow } from '../../src/report/columns.js';
import { leadingCause, renderSummaryTable, summarizeDay } from '../../src/report/summary.js';
import { renderSummaryCsv, renderSummaryJson, SUMMARY_CSV_HEADER } from '../../src/report/summary-docs.js';

/** A parity row with every column empty but those given. */
function row(over: Record<string, string | number | null>): ParityRow {
  const r = Object.fromEntries(PARITY_HEADER.map((c) => [c, null])) as unknown as ParityRow;
  return Object.assign(r, over);
}

const counts = {
  lost_before_kafka: null,
  unknown_site: 0,
  in_flight: null,
  missing_unexplained: 0,
  landed_not_accepted: 0,
};

/** A row with nothing missing: parity 100, PASS. */
function passRow(day: string, site: string, proxyRequests: number, proxyAccepted: number): ParityRow {
  return row({
    ...counts,
    date: day,
    site,
    proxy_requests: proxyRequests,
    proxy_accepted: proxyAccepted,
    missing: 0,
    unexplained: 0,
    parity_pct: '100.0000',
    status: 'PASS',
  });
}

/** A day whose UNKNOWN row fails while every other row, ALL included, passes. */
function unknownFailsDay(day = '2025-03-05'): ParityRow[] {
  return [
    row({
      ...counts,
      date: day,
      site: 'US',
      proxy_requests: 1200,
      proxy_accepted: 1100,
      missing: 1,
      missing_unexplained: 1,
      unexplained: 2,
      landed_not_accepted: 3,
      parity_pct: '99.9909',
      status: 'PASS',
    }),
    passRow(day, 'CA', 900, 880),
    row({
      ...counts,
      date: day,
      site: 'UNKNOWN',
      proxy_requests: 370,
      proxy_accepted: 362,
      missing: 67,
      unknown_site: 67,
      unexplained: -67,
      parity_pct: '81.4917',
      status: 'FAIL',
      status_reason: 'parity 81.4917 < failPct 99',
    }),
    row({
      ...counts,
      date: day,
      site: 'ALL',
      proxy_requests: 2470,
      proxy_accepted: 2342,
      missing: 68,
      unknown_site: 67,
      missing_unexplained: 1,
      unexplained: -65,
      landed_not_accepted: 3,
      parity_pct: '99.9100',
      status: 'PASS',
    }),
  ];
}

function passDay(day: string): ParityRow[] {
  return [passRow(day, 'US', 10, 10), passRow(day, 'ALL', 10, 10)];
}

const HOSTILE_ERROR =
  'gcs: gs://b/dt=2025-03-06/=cmd|"x",<script>\nalert(1)</script>.json.gz: not valid gzip — and a long tail that no 100-column line can hold whole';

function errorDay(day: string): ParityRow[] {
  return ['US', 'CA', 'ALL'].map((site) =>
    row({
      date: day,
      site,
      proxy_requests: 5,
      status: 'ERROR',
      error: HOSTILE_ERROR,
      status_reason: `ERROR ${HOSTILE_ERROR}`,
    }),
  );
}

describe('summarizeDay', () => {
  it("gives the worst status across the rows, not the ALL row's, and names the row behind it with its leading cause", () => {
    const v = summarizeDay(unknownFailsDay());
    expect(v.status).toBe('FAIL');
    expect(v.rows).toEqual([
      {
        site: 'UNKNOWN',
        status: 'FAIL',
        parity_pct: '81.4917',
        leadingCause: { column: 'unknown_site', count: 67, text: 'unknown site −67' },
      },
    ]);
    expect(v.text).toBe('FAIL: UNKNOWN 81.4917 %, unknown site −67');
    expect(v.parity_pct).toBe('99.9100');
    expect(v.all.map((r) => r.site)).toEqual(['US', 'CA', 'UNKNOWN', 'ALL']);
  });

  it('says PASS and names no row for a day where every row passes', () => {
    expect(summarizeDay(passDay('2025-03-04'))).toMatchObject({ status: 'PASS', rows: [], text: 'PASS' });
  });

  it('ranks ERROR over FAIL over NO_DATA over WARN, names every row with the worst status, then the other rows that fail the run', () => {
    const rows = [
      row({ ...counts, site: 'US', missing: 3, missing_unexplained: 3, parity_pct: '99.7000', status: 'WARN' }),
      row({ site: 'CA', proxy_requests: 0, status: 'NO_DATA', status_reason: 'no proxy records' }),
      row({ site: 'MX', proxy_requests: 0, status: 'NO_DATA', status_reason: 'no proxy records' }),
      row({ ...counts, site: 'ALL', missing: 3, missing_unexplained: 3, parity_pct: '99.9000', status: 'WARN' }),
    ];
    expect(summarizeDay(rows).text).toBe('NO_DATA: CA, MX: no proxy records');
    rows[0]!.status = 'FAIL';
    // A lesser status that also fails the run is named after the worst, by site.
    expect(summarizeDay(rows).text).toBe('FAIL: US 99.7 %, missing unexplained −3; also NO_DATA: CA, MX');
  });

  it('names ALL only when no other row has the worst status', () => {
    const rows = [
      row({ ...counts, site: 'US', parity_pct: '100.0000', status: 'PASS' }),
      row({ ...counts, site: 'ALL', missing: 1, missing_unexplained: 1, parity_pct: '98.0000', status: 'FAIL' }),
    ];
    expect(summarizeDay(rows)).toMatchObject({ status: 'FAIL', text: 'FAIL: ALL 98 %, missing unexplained −1' });
  });

  it('names rows that share an error once; what shows it shows it on one line, escaped once', () => {
    const v = summarizeDay(errorDay('2025-03-06'));
    expect(v.status).toBe('ERROR');
    expect(v.rows.map((r) => r.site)).toEqual(['US', 'CA']);
    // The verdict holds the error as it is; each place that shows it escapes it (oneLine), once.
    expect(v.text).toBe(`ERROR: US, CA: ${HOSTILE_ERROR}`);
    const table = renderSummaryTable([{ day: '2025-03-06', rows: errorDay('2025-03-06') }], { width: 400 });
    expect(table).toContain(`US, CA: ${HOSTILE_ERROR.replace('\n', '\\x0a')}`);
    expect(table.split('\n')).toHaveLength(5);
    const doc = JSON.parse(renderSummaryJson([{ day: '2025-03-06', rows: errorDay('2025-03-06') }]));
    expect(doc[0].summary).toBe(`ERROR: US, CA: ${HOSTILE_ERROR.replace('\n', '\\x0a')}`);
  });
});

describe('leadingCause', () => {
  it('is the largest cause count, ties going to the first cause; a surplus is signed +', () => {
    expect(
      leadingCause(
        row({ ...counts, status: 'FAIL', lost_before_kafka: 5, unknown_site: 5, in_flight: 9, missing_unexplained: 2 }),
      ),
    ).toEqual({ column: 'in_flight', count: 9, text: 'in flight −9' });
    expect(leadingCause(row({ ...counts, status: 'FAIL', lost_before_kafka: 5, unknown_site: 5 }))).toMatchObject({
      column: 'lost_before_kafka',
    });
    expect(leadingCause(row({ ...counts, status: 'WARN', landed_not_accepted: 40, missing_unexplained: 1 }))).toEqual({
      column: 'landed_not_accepted',
      count: 40,
      text: 'landed not accepted +40',
    });
  });

  it('explains the rule that decided the row: a parity FAIL by its losses, never by ids that landed unaccepted', () => {
    // A review: a row failing on a loss read "landed not accepted +2" (the larger count, which never lowers parity).
    const failing = row({
      ...counts,
      status: 'FAIL',
      status_reason: 'parity 95.0000 < failPct 99; landed_not_accepted 40 > 0.5% of 20 accepted',
      missing_unexplained: 1,
      landed_not_accepted: 40,
    });
    expect(leadingCause(failing)).toEqual({ column: 'missing_unexplained', count: 1, text: 'missing unexplained −1' });
    const warned = row({
      ...counts,
      status: 'WARN',
      status_reason: 'landed_not_accepted 40 > 0.5% of 1000 accepted',
      missing_unexplained: 1,
      landed_not_accepted: 40,
    });
    expect(leadingCause(warned)).toMatchObject({ column: 'landed_not_accepted', count: 40 });
    const none = row({
      ...counts,
      status: 'WARN',
      status_reason: '3 ids landed with none accepted',
      unknown_site: 2,
      landed_not_accepted: 3,
    });
    expect(leadingCause(none)).toMatchObject({ column: 'landed_not_accepted', count: 3 });
  });

  it('is the error for ERROR, the reason for NO_DATA, and the volume drop where no count explains a WARN', () => {
    expect(
      leadingCause(
        row({ status: 'ERROR', error: 'kafka: cluster EUS2 unreachable', missing: 3, missing_unexplained: 3 }),
      ),
    ).toEqual({ column: 'error', count: null, text: 'kafka: cluster EUS2 unreachable' });
    expect(
      leadingCause(row({ status: 'NO_DATA', status_reason: 'gcs holds nothing while the proxy accepted 40' })),
    ).toEqual({ column: 'status_reason', count: null, text: 'gcs holds nothing while the proxy accepted 40' });
    const drop = row({
      ...counts,
      status: 'WARN',
      volume_drop: 'proxy_requests 1500 < 50% of median 3000',
      status_reason: 'volume_drop: proxy_requests 1500 < 50% of median 3000',
    });
    expect(leadingCause(drop)).toEqual({
      column: 'volume_drop',
      count: null,
      text: 'volume drop: proxy_requests 1500 < 50% of median 3000',
    });
    // The volume guard decided it: a stray missing id (or landed id) beside the drop is no explanation of it
    // (before 0.3.7 the summary said "missing unexplained −1" and the drop showed nowhere).
    for (const stray of [{ missing_unexplained: 1 }, { landed_not_accepted: 2 }])
      expect(leadingCause({ ...drop, ...stray })).toEqual(leadingCause(drop));
    expect(leadingCause(row({ ...counts, status: 'WARN', status_reason: '12 proxy lines, none accepted' }))).toEqual({
      column: 'status_reason',
      count: null,
      text: '12 proxy lines, none accepted',
    });
    expect(leadingCause(row({ ...counts, status: 'PASS' }))).toBeNull();
  });
});

describe('the terminal summary table', () => {
  const days = [
    { day: '2025-03-04', rows: passDay('2025-03-04') },
    { day: '2025-03-05', rows: unknownFailsDay('2025-03-05') },
    { day: '2025-03-06', rows: errorDay('2025-03-06') },
  ];

  it('fits 100 columns, one line per day with its worst status and the rows behind it', () => {
    const text = renderSummaryTable(days, { width: 100 });
    const lines = text.trimEnd().split('\n');
    for (const l of lines) expect([l, l.length <= 100]).toEqual([l, true]);
    const day = lines.find((l) => l.startsWith('2025-03-05'))!;
    expect(day).toMatch(/^2025-03-05 +FAIL +-?\d+ .* UNKNOWN 81\.4917 %, unknown site −67$/);
    expect(lines.filter((l) => /^2025-03-0\d /.test(l))).toHaveLength(3);
    expect(lines.find((l) => l.startsWith('2025-03-06'))).toMatch(/ERROR +.*US, CA: gcs: .*…$/);
  });

  it("names its columns as the CSV does, and its unexplained is the CSV's net unexplained, not missing_unexplained", () => {
    for (const width of [80, 100, 240]) {
      const [header] = renderSummaryTable(days, { width }).split('\n');
      const names = header!.trim().split(/ +/);
      expect(names.at(-1)).toBe('worst_rows');
      for (const n of names.slice(0, -1))
        expect([n, (PARITY_HEADER as readonly string[]).includes(n)]).toEqual([n, true]);
      expect(names).toEqual(expect.arrayContaining(['date', 'status', 'missing', 'unexplained', 'parity_pct']));
    }
    const lines = renderSummaryTable(days, { width: 100 }).split('\n');
    const names = lines[0]!.trim().split(/ +/);
    const cells = lines.find((l) => l.startsWith('2025-03-05'))!.split(/ +/);
    expect(cells[names.indexOf('unexplained')]).toBe('-65');
    expect(cells[names.indexOf('missing')]).toBe('68');
  });

  it('shows more columns only when the terminal is wider, and never a line wider than it', () => {
    const narrow = renderSummaryTable(days, { width: 100 }).split('\n')[0]!.trim().split(/ +/);
    const wide = renderSummaryTable(days, { width: 240 }).split('\n')[0]!.trim().split(/ +/);
    expect(wide.length).toBeGreaterThan(narrow.length);
    expect(wide).toEqual(
      expect.arrayContaining([
        'proxy_requests',
        'proxy_accepted',
        'rejected_413',
        'missing_unexplained',
        'landed_not_accepted',
      ]),
    );
    expect(narrow).not.toContain('missing_unexplained');
    for (const width of [60, 80, 120, 160, 240]) {
      for (const l of renderSummaryTable(days, { width }).split('\n'))
        expect([width, l, l.length <= width]).toEqual([width, l, true]);
    }
  });

  it('with onlyFailing leaves out the PASS days', () => {
    const text = renderSummaryTable(days, { width: 100, onlyFailing: true });
    expect(text).not.toContain('2025-03-04');
    expect(text).toContain('2025-03-05');
  });
});

describe('the machine-readable summary', () => {
  const days = [
    { day: '2025-03-04', rows: passDay('2025-03-04') },
    { day: '2025-03-05', rows: unknownFailsDay('2025-03-05') },
    { day: '2025-03-06', rows: errorDay('2025-03-06') },
  ];

  it("is one JSON document: per day the worst status, ALL's parity, the leading cause and every row", () => {
    const doc = JSON.parse(renderSummaryJson(days)) as {
      date: string;
      status: string;
      parity_pct: string | null;
      leading_cause: string | null;
      worst_rows: string[];
      rows: { site: string; status: string }[];
    }[];
    expect(doc.map((d) => [d.date, d.status])).toEqual([
      ['2025-03-04', 'PASS'],
      ['2025-03-05', 'FAIL'],
      ['2025-03-06', 'ERROR'],
    ]);
    expect(doc[1]).toMatchObject({
      parity_pct: '99.9100',
      leading_cause: 'unknown_site',
      leading_count: 67,
      worst_rows: ['UNKNOWN'],
      summary: 'FAIL: UNKNOWN 81.4917 %, unknown site −67',
    });
    expect(doc[1]!.rows.map((r) => [r.site, r.status])).toEqual([
      ['US', 'PASS'],
      ['CA', 'PASS'],
      ['UNKNOWN', 'FAIL'],
      ['ALL', 'PASS'],
    ]);
  });

  it('with onlyFailing holds only the days and rows that are not PASS', () => {
    const doc = JSON.parse(renderSummaryJson(days, { onlyFailing: true })) as {
      date: string;
      rows: { site: string }[];
    }[];
    expect(doc.map((d) => d.date)).toEqual(['2025-03-05', '2025-03-06']);
    expect(doc[0]!.rows.map((r) => r.site)).toEqual(['UNKNOWN']);
  });

  it('is RFC 4180 CSV with a header, whose hostile text a strict reader gets back whole', () => {
    const records = parse(renderSummaryCsv(days, { formulaGuard: false }), {
      relax_quotes: false,
      relax_column_count: false,
      record_delimiter: '\r\n',
      columns: true,
    }) as Record<string, string>[];
    expect(Object.keys(records[0]!)).toEqual([...SUMMARY_CSV_HEADER]);
    expect(records).toHaveLength(2 + 4 + 3);
    expect(records.find((r) => r.site === 'UNKNOWN')).toMatchObject({
      date: '2025-03-05',
      day_status: 'FAIL',
      day_parity_pct: '99.9100',
      worst_rows: 'UNKNOWN',
      status: 'FAIL',
      leading_cause: 'unknown_site',
      leading_count: '67',
      detail: 'unknown site −67',
    });
    expect(records.find((r) => r.date === '2025-03-06')!.detail).toBe(HOSTILE_ERROR.replace('\n', '\\x0a'));
    const guarded = parse(renderSummaryCsv(days, { onlyFailing: true }), {
      record_delimiter: '\r\n',
      columns: true,
    }) as Record<string, string>[];
    expect(guarded.map((r) => `${r.date} ${r.site}`)).toEqual([
      '2025-03-05 UNKNOWN',
      '2025-03-06 US',
      '2025-03-06 CA',
      '2025-03-06 ALL',
    ]);
  });
});

describe('the progress bar', () => {
  const fakeStream = (columns: number, writes: string[]) =>
    ({ columns, write: (s: string) => writes.push(s) }) as unknown as NodeJS.WriteStream;

  it("ticks with the day's summary, naming the worst row and its cause", () => {
    const writes: string[] = [];
    progressBar(2, fakeStream(120, writes)).tick(`2025-03-05 ${summarizeDay(unknownFailsDay()).text}`);
    expect(writes[0]).toMatch(/^\r\[#+ *\] 1\/2 days {2}2025-03-05 FAIL: UNKNOWN 81\.4917 %, unknown site −67 *$/);
  });

  it("cuts each tick to the terminal's width, so that it redraws in place", () => {
    const writes: string[] = [];
    const bar = progressBar(2, fakeStream(80, writes));
    bar.tick(`2025-03-05 ${summarizeDay(unknownFailsDay()).text}`);
    bar.tick(`2025-03-06 ${summarizeDay(errorDay('2025-03-06')).text}`);
    for (const w of writes) expect(w.length).toBeLessThanOrEqual(80);
    expect(writes[1]).toMatch(/^\r\[#+\] 2\/2 days {2}2025-03-06 ERROR: US, CA: .*…$/);
    expect(writes.join('')).not.toContain('\n');
  });

  it('puts a warning written while the bar is drawn on a line of its own, and draws the bar again below it', () => {
    const writes: string[] = [];
    const stream = fakeStream(80, writes);
    const bar = progressBar(2, stream);
    bar.around(() => stream.write('WARNING: before any day\n'));
    bar.tick('2025-03-05');
    bar.around(() => stream.write('WARNING: 2025-03-06: FAIL\n'));
    expect(writes.slice(0, 2)).toEqual(['WARNING: before any day\n', writes[1]]);
    expect(writes.slice(2)).toEqual(['\r\x1b[2K', 'WARNING: 2025-03-06: FAIL\n', writes[1]]);
    expect(writes[1]).toMatch(/^\r\[#+ +\] 1\/2 days {2}2025-03-05 */);
  });

  it('counts to the days daily chose once it has read its earlier reports (resize), never past its width', () => {
    const writes: string[] = [];
    const bar = progressBar(2, fakeStream(80, writes));
    bar.resize(3);
    for (const day of ['2025-03-04', '2025-03-05', '2025-03-06']) bar.tick(day);
    expect(writes.map((w) => /\] (\d\/\d) days/.exec(w)?.[1])).toEqual(['1/3', '2/3', '3/3']);
    bar.tick('2025-03-07');
    expect(writes[3]).toMatch(/^\r\[#{30}\] 4\/3 days/);
  });
});

describe('the webhook message', () => {
  const day = (d: string, rows: ParityRow[]) => ({ day: d, rows, parityFile: `parity-${d}.csv`, missingFile: null });

  it("names the UNKNOWN row that FAILs under a passing ALL, with its leading cause and ALL's parity", () => {
    const alert = buildAlert(
      [day('2025-03-04', passDay('2025-03-04')), day('2025-03-05', unknownFailsDay('2025-03-05'))],
      ['FAIL', 'ERROR'],
      'gs://reports/',
    );
    expect(alert?.text.split('\n')).toEqual([
      'audit-parity: 1 day(s) need attention',
      '• 2025-03-05: FAIL: UNKNOWN 81.4917 %, unknown site −67 (ALL 99.9100 %, 68 missing)',
      'reports: gs://reports/',
    ]);
  });

  it("names the day's worst loss window in the zone it was given, with its site, count and cause", () => {
    const worstWindow = {
      site: 'US',
      startMs: Date.parse('2025-03-05T19:00:00Z'),
      accepted: 2500,
      landed: 396,
      missing: 2104,
      leadingCause: 'lost_before_kafka' as const,
      zone: 'America/Chicago',
    };
    const alert = buildAlert(
      [{ ...day('2025-03-05', unknownFailsDay('2025-03-05')), worstWindow }],
      ['FAIL', 'ERROR'],
      'gs://reports/',
    );
    expect(alert?.text.split('\n')[1]).toBe(
      '• 2025-03-05: FAIL: UNKNOWN 81.4917 %, unknown site −67 (ALL 99.9100 %, 68 missing); ' +
        'worst window: US, 2,104 missing between 13:00 and 13:15, cause lost_before_kafka',
    );
  });

  it('stays below the 40,000 characters Slack shows: the worst and latest days first, the rest counted by status', () => {
    // Two years' backfill that failed every day, one day of it ERROR: the lines of all do not fit.
    const days = Array.from({ length: 731 }, (_, i) => {
      const d = addDays('2024-01-01', i);
      return day(d, i === 10 ? errorDay(d) : unknownFailsDay(d));
    });
    const text = buildAlert(days, ['FAIL', 'ERROR'], 'gs://reports/')!.text;
    const lines = text.split('\n');
    expect(text.length).toBeLessThanOrEqual(ALERT_MAX_CHARS);
    expect(lines[0]).toBe('audit-parity: 731 day(s) need attention');
    expect(lines.at(-1)).toBe('reports: gs://reports/');
    const shown = lines.filter((l) => l.startsWith('• ')).map((l) => l.slice(2, 12));
    // The ERROR day first of all, then the latest FAIL days; shown in day order.
    expect(shown).toContain('2024-01-11');
    expect(shown).toContain('2025-12-31');
    expect(shown).not.toContain('2024-01-01');
    expect([...shown].sort()).toEqual(shown);
    expect(shown.length).toBeGreaterThan(300);
    expect(lines.at(-2)).toBe(`… and ${731 - shown.length} more day(s) (${731 - shown.length} FAIL): see the reports`);
  });

  it('cuts a day line too long to show (a hostile object name in its error) without splitting an escape', () => {
    // Every `<` is `&lt;` in the alert: of four lengths of what comes before, three put the cut inside one.
    for (const pad of ['', 'x', 'xx', 'xxx']) {
      const hostile = `gcs: gs://b/${pad}<script>=1+2\n${'<'.repeat(3000)}.json.gz: not valid gzip`;
      const rows = ['US', 'ALL'].map((site) =>
        row({
          date: '2025-03-06',
          site,
          proxy_requests: 5,
          status: 'ERROR',
          error: hostile,
          status_reason: `ERROR ${hostile}`,
        }),
      );
      const [, line] = buildAlert([day('2025-03-06', rows)], ['ERROR'], 'gs://reports/')!.text.split('\n');
      expect(line!.length).toBeLessThanOrEqual(2_000);
      expect(line!.endsWith('&lt;…')).toBe(true);
      expect(line).not.toMatch(/[<>]/);
      expect(line).toContain('&lt;script&gt;=1+2');
    }
    // Nor inside a character outside the BMP (an emoji in an object's name): half of one is no text a receiver reads.
    for (const pad of ['', 'x']) {
      const hostile = `gcs: ${'a'.repeat(1900)}${pad}${'\u{1F600}'.repeat(100)}.json.gz: not valid gzip`;
      const rows = ['US', 'ALL'].map((site) =>
        row({ date: '2025-03-06', site, proxy_requests: 5, status: 'ERROR', error: hostile }),
      );
      const [, line] = buildAlert([day('2025-03-06', rows)], ['ERROR'], 'gs://reports/')!.text.split('\n');
      expect(line!.length).toBeLessThanOrEqual(2_000);
      expect([pad, /[\ud800-\udbff](?![\udc00-\udfff])/.test(line!)]).toEqual([pad, false]);
    }
  });

  it("names a window's offset where its wall time comes twice (clocks back), and only there", () => {
    const window = (startIso: string) => ({
      ...day('2025-11-02', unknownFailsDay('2025-11-02')),
      worstWindow: {
        site: 'US',
        startMs: Date.parse(startIso),
        accepted: 10,
        landed: 0,
        missing: 10,
        leadingCause: 'lost_before_kafka' as const,
        zone: 'America/Chicago',
      },
    });
    const text = (iso: string) => buildAlert([window(iso)], ['FAIL'], 'r/')!.text;
    // 01:15 came twice in Chicago on 2025-11-02: first at −05:00, then at −06:00.
    expect(text('2025-11-02T06:15:00Z')).toContain('between 01:15 and 01:30 (UTC-05:00)');
    expect(text('2025-11-02T07:15:00Z')).toContain('between 01:15 and 01:30 (UTC-06:00)');
    expect(text('2025-11-02T15:00:00Z')).toContain('between 09:00 and 09:15, cause');
    // The window that ends as the clocks go back: each end with its own offset (01:00 at −06:00 is after 01:45).
    expect(text('2025-11-02T06:45:00Z')).toContain('between 01:45 (UTC-05:00) and 01:00 (UTC-06:00)');
  });

  it('alerts on NO_DATA with FAIL, lists the lesser statuses asked for, and escapes what Slack would read as markup', () => {
    const rows = [
      row({ ...counts, site: 'US', missing: 1, missing_unexplained: 1, parity_pct: '99.5000', status: 'WARN' }),
      row({ site: 'CA', proxy_requests: 0, status: 'NO_DATA', status_reason: 'no proxy records <!channel> & co' }),
      row({ ...counts, site: 'ALL', missing: 1, missing_unexplained: 1, parity_pct: '99.5000', status: 'WARN' }),
    ];
    expect(buildAlert([day('2025-03-06', rows)], ['WARN'], 'reports/')?.text).toContain(
      '• 2025-03-06: NO_DATA: CA: no proxy records &lt;!channel&gt; &amp; co; also WARN: US (ALL 99.5000 %, 1 missing)',
    );
    expect(buildAlert([day('2025-03-06', rows)], ['FAIL'], 'reports/')?.text).toContain(
      '• 2025-03-06: NO_DATA: CA: no proxy records &lt;!channel&gt; &amp; co (ALL',
    );
    expect(buildAlert([day('2025-03-04', passDay('2025-03-04'))], ['FAIL', 'ERROR'], 'reports/')).toBeNull();
  });

  it('an ERROR row whose parity was still counted alerts as its grade too: alerts.on [FAIL] hears of it', () => {
    const error = 'kafka: cluster EUS2: cannot connect';
    const graded = { accepted_distinct: 1000, missing: 104, parity_pct: '89.6000', error, status: 'ERROR' };
    const reason = `ERROR ${error}; parity 89.6000 < failPct 99`;
    const rows = [
      row({ ...counts, site: 'US', ...graded, status_reason: reason }),
      row({ ...counts, site: 'CA', accepted_distinct: 10, missing: 0, parity_pct: '100.0000', error, status: 'ERROR' }),
      row({
        ...counts,
        site: 'ALL',
        accepted_distinct: 1010,
        missing: 104,
        parity_pct: '89.7029',
        error,
        status: 'ERROR',
      }),
    ];
    const thresholds = { warnPct: 99.9, failPct: 99 };
    const failOnly = buildAlert([day('2025-03-06', rows)], ['FAIL'], 'reports/', thresholds)?.text ?? '';
    expect(failOnly).toContain('; FAIL by parity under the ERROR: US 89.6000 % (ALL 89.7029 %, 104 missing)');
    expect(failOnly).not.toContain('CA 100');
    // Without thresholds (or with a parity that passes) an ERROR day alerts only where ERROR is asked for.
    expect(buildAlert([day('2025-03-06', rows)], ['FAIL'], 'reports/')).toBeNull();
    expect(buildAlert([day('2025-03-06', rows)], ['WARN'], 'reports/', { warnPct: 80, failPct: 70 })).toBeNull();
  });
});
