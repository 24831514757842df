import { ALL_SITES, isRowStatus, type RowStatus, UNKNOWN_SITE } from '../domain.js';
import { formatParity, statusOf } from '../reconcile/attribute.js';
import { PARITY_COLUMNS, type ParityColumn, type ParityRow, regionColumn } from './columns.js';
import { esc, fmt } from './html-escape.js';
import { renderLossStrips, STRIP_CSS, type StripDay } from './loss-strip.js';
import { worstStatus } from './manifest.js';
import { type DayVerdict, summarizeDay } from './summary.js';

/** What one HTML report shows: the days of a run, in any order, each with its parity rows. */
export interface HtmlReportInput {
  title: string;
  /** Each day's loss windows (windows-DAY.csv) too, when read: a strip per site shows them. */
  days: { day: string; rows: ParityRow[]; windows?: StripDay['windows'] }[];
  /** The configured sites, in report order; UNKNOWN and ALL are taken from the rows. */
  sites: string[];
  thresholds: { warnPct: number; failPct: number };
  /** The zone of a site's day: its loss-window strip runs from its midnight to the next (default UTC). */
  zoneOf?: (site: string) => string;
}

/**
 * The parity report of a run as one self-contained HTML page for analysts: overall status, a status
 * matrix (day × site), a waterfall per site from proxy requests to landed ids, the parity trend
 * against the thresholds, and every column of every day's rows. Inline CSS and SVG only: no script,
 * no network (a Content-Security-Policy forbids both). Pure: the same input gives the same bytes.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const days = [...input.days].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const sites = chartSites(input.sites, days);
  const regions = regionsOf(days);
  const configured = configuredTiers(days);
  const verdicts = new Map(days.map((d) => [d.day, summarizeDay(d.rows)]));
  const ctx: Ctx = { days, sites, regions, configured, thresholds: input.thresholds, verdicts };
  const range = days.length === 0 ? 'no days' : `${days[0]!.day} to ${days.at(-1)!.day}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // A report that cannot load anything: what an analyst opens is what was rendered.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(input.title)} — ${esc(range)}</title>`,
    `<style>${CSS}\n${STRIP_CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    renderHeader(input.title, range, ctx),
    renderMatrix(ctx),
    renderLossStrips(days, sites, input.zoneOf ?? (() => 'UTC')),
    renderWaterfalls(ctx),
    renderTrend(ctx),
    renderTables(ctx),
    renderDefinitions(ctx),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

interface Ctx {
  days: { day: string; rows: ParityRow[] }[];
  /** Configured sites, then any other site the rows hold (UNKNOWN), then ALL. */
  sites: string[];
  regions: string[];
  configured: Record<Tier, boolean>;
  thresholds: { warnPct: number; failPct: number };
  /** Each day's worst status and the rows behind it: what every summary of the run says. */
  verdicts: Map<string, DayVerdict>;
}

type Tier = 'kafka' | 'gcs' | 'bigquery';

const STATUSES: readonly RowStatus[] = ['PASS', 'WARN', 'NO_DATA', 'FAIL', 'ERROR'];
/** Worst first: the overall status is the first of these any row has. */
const SEVERITY: readonly RowStatus[] = ['ERROR', 'FAIL', 'NO_DATA', 'WARN', 'PASS'];

const STATUS_MEANS: Record<RowStatus, string> = {
  PASS: 'parity at or above warnPct, and nothing else to warn of',
  WARN: 'parity below warnPct, ids landed that the proxy did not accept, a volume drop, or data on one side only',
  NO_DATA:
    "a configured site's proxy holds nothing that day, or a configured tier holds nothing while the proxy holds records, accepted or not (exits 1, as FAIL)",
  FAIL: 'parity below failPct',
  ERROR: 'a tier could not be read: the row is incomplete',
};

// ---------------------------------------------------------------------------------------------
// Header and status matrix

function renderHeader(title: string, range: string, ctx: Ctx): string {
  const rows = ctx.days.flatMap((d) => d.rows);
  const counts = new Map<string, number>(STATUSES.map((s) => [s, 0]));
  for (const r of rows) counts.set(String(r.status), (counts.get(String(r.status)) ?? 0) + 1);
  const overall = SEVERITY.find((s) => (counts.get(s) ?? 0) > 0) ?? null;
  const errors = ctx.days.flatMap((d) => {
    const all = d.rows.find((r) => r.site === ALL_SITES) ?? d.rows.find((r) => r.error);
    return all?.error ? [{ day: d.day, error: String(all.error) }] : [];
  });
  const t = ctx.thresholds;
  const tally = STATUSES.map((s) => `${counts.get(s) ?? 0} ${s}`).join(', ');
  return [
    '<header>',
    `<h1>${esc(title)}</h1>`,
    '<div class="headline">',
    `<div class="overall">Overall status ${overall ? badge(overall, 'big') : '<span class="badge big">NO ROWS</span>'}</div>`,
    '<dl class="facts">',
    `<div><dt>Range</dt><dd>${esc(range)} (${ctx.days.length} ${ctx.days.length === 1 ? 'day' : 'days'})</dd></div>`,
    `<div><dt>Sites</dt><dd>${
      ctx.sites
        .filter((s) => s !== ALL_SITES)
        .map(esc)
        .join(', ') || '–'
    }</dd></div>`,
    `<div><dt>Thresholds</dt><dd>WARN below ${esc(pct(t.warnPct))}, FAIL below ${esc(pct(t.failPct))}</dd></div>`,
    `<div><dt>Rows</dt><dd>${esc(tally)}</dd></div>`,
    `<div><dt>Tiers</dt><dd>proxy${ctx.configured.kafka ? ', kafka' : ''}${ctx.configured.gcs ? ', gcs' : ''}${ctx.configured.bigquery ? ', bigquery' : ''} (final: ${ctx.configured.bigquery ? 'bigquery' : 'gcs'})</dd></div>`,
    '</dl>',
    '</div>',
    `<p class="lede">The overall status is the worst of every row of every day (each site, UNKNOWN and ALL). ${esc(overallMeaning(overall))}</p>`,
    renderVerdicts(ctx),
    errors.length === 0
      ? ''
      : `<div class="errors"><h2>Tiers that could not be read</h2><ul>${errors.map((e) => `<li><b>${esc(e.day)}</b>: <code>${esc(e.error)}</code></li>`).join('')}</ul></div>`,
    '</header>',
  ].join('\n');
}

/** Per day: the worst status across its rows (not the ALL row's), the rows behind it with their leading cause, and ALL's parity. */
function renderVerdicts(ctx: Ctx): string {
  if (ctx.days.length === 0) return '';
  const body = ctx.days.map((d) => {
    const v = ctx.verdicts.get(d.day)!;
    const behind =
      v.rows.length === 0 ? '<span class="muted">every row passes</span>' : esc(v.text.slice(v.status.length + 2));
    return `<tr><th scope="row"><a href="#day-${esc(d.day)}">${esc(d.day)}</a></th><td>${badge(v.status)}</td><td class="behind">${behind}</td><td class="num">${v.parity_pct === null ? '–' : `${esc(v.parity_pct)} %`}</td></tr>`;
  });
  return [
    '<div class="table-wrap verdicts-wrap"><table class="verdicts">',
    '<thead><tr><th scope="col">date</th><th scope="col" title="the worst status of any row of the day">worst status</th><th scope="col" title="the rows with that status, each with its parity and leading cause">rows behind it (parity, leading cause)</th><th scope="col" title="the ALL row\'s parity_pct">ALL parity</th></tr></thead>',
    `<tbody>${body.join('\n')}</tbody>`,
    '</table></div>',
  ].join('\n');
}

function overallMeaning(s: RowStatus | null): string {
  switch (s) {
    case 'NO_DATA':
      return "At least one row has no data (a site's proxy, or a tier, holds nothing that day): reconcile exits 1.";
    case 'ERROR':
      return 'At least one tier could not be read: those rows are incomplete, and reconcile exits 3.';
    case 'FAIL':
      return 'At least one row is below failPct: reconcile exits 1.';
    case 'WARN':
      return 'Every row is at or above failPct, some below warnPct.';
    case 'PASS':
      return 'Every row is at or above warnPct.';
    default:
      return 'The run has no rows.';
  }
}

function renderMatrix(ctx: Ctx): string {
  const head = ctx.sites.map((s) => `<th scope="col"${s === ALL_SITES ? ' class="all"' : ''}>${esc(s)}</th>`).join('');
  const body = ctx.days.map((d) => {
    const cells = ctx.sites.map((site) => {
      const r = d.rows.find((x) => x.site === site);
      if (!r) return `<td class="empty" title="${esc(`no ${site} row on ${d.day}`)}">–</td>`;
      const tip =
        r.status === 'ERROR' && r.error
          ? `ERROR: ${String(r.error)}`
          : `${site} ${d.day}: parity ${r.parity_pct ?? 'undefined'} %`;
      return `<td class="${site === ALL_SITES ? 'all' : ''}" title="${esc(tip)}">${badge(String(r.status))} <span class="pct">${r.parity_pct === null ? '–' : `${esc(String(r.parity_pct))} %`}</span></td>`;
    });
    return `<tr><th scope="row"><a href="#day-${esc(d.day)}">${esc(d.day)}</a></th>${cells.join('')}</tr>`;
  });
  const totals = ctx.sites.map((site) => {
    const s = sumRange(ctx, site);
    if (s.used.length === 0) return '<td class="empty" title="no day without ERROR">–</td>';
    const worst = s.worstDays.length === 0 ? '' : `; ${s.status} on ${s.worstDays.join(', ')}`;
    const tip = `${site}: summed over ${s.used.length} of ${ctx.days.length} days (ERROR days left out)${worst}`;
    return `<td class="${site === ALL_SITES ? 'all' : ''}" title="${esc(tip)}">${badge(s.status)} <span class="pct">${s.parity === null ? '–' : `${esc(s.parity)} %`}</span></td>`;
  });
  return [
    '<section>',
    '<h2>Status by day and site</h2>',
    '<p class="caption">Status and parity % (accepted ids the final tier holds ÷ accepted ids) of each row. The last line sums the range, leaving ERROR days out; its status is the worst of the grade of the sums and the status of every day. Each date links to its full table below.</p>',
    '<div class="table-wrap"><table class="matrix">',
    `<thead><tr><th scope="col">date</th>${head}</tr></thead>`,
    `<tbody>${body.join('\n')}</tbody>`,
    `<tfoot><tr><th scope="row">range</th>${totals.join('')}</tr></tfoot>`,
    '</table></div>',
    '</section>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Waterfalls

/** The columns a waterfall sums; a row with any of the REQUIRED ones empty is left out. */
const REQUIRED: readonly ParityColumn[] = [
  'proxy_requests',
  'proxy_accepted',
  'rejected_413',
  'rejected_502',
  'rejected_other',
  'accepted_distinct',
  'missing',
  'unknown_site',
  'missing_unexplained',
  'landed_after_reject',
  'landed_without_proxy',
  'duplicates',
];
const OPTIONAL: readonly ParityColumn[] = [
  'kafka_records',
  'gcs_records',
  'gcs_distinct',
  'bq_rows',
  'bq_distinct',
  'lost_before_kafka',
  'in_flight',
  'late_arrivals',
  'retry_recovered',
  'lost_413',
  'lost_502',
  'lost_other',
  'proxy_malformed',
  'gcs_malformed',
  'cross_region_duplicates',
  'landed_not_accepted',
];

interface RangeSum {
  used: string[];
  skipped: string[];
  /** Summed columns; null where no used row had a value. */
  v: Partial<Record<ParityColumn, number | null>>;
  final: 'bigquery' | 'gcs';
  finalDistinct: number;
  finalRecords: number;
  parity: string | null;
  /**
   * The worst of the summed parity's grade and every day's status (ERROR days included): a range with a
   * NO_DATA, WARN or ERROR day is never PASS, whatever its sums.
   */
  status: RowStatus;
  /** The days whose status is `status`, when a day's rather than the sums' grade decides it. */
  worstDays: string[];
}

function sumRange(ctx: Ctx, site: string): RangeSum {
  const used: string[] = [];
  const skipped: string[] = [];
  const v: Partial<Record<ParityColumn, number | null>> = {};
  const final = ctx.configured.bigquery ? 'bigquery' : 'gcs';
  const distinctCol: ParityColumn = final === 'bigquery' ? 'bq_distinct' : 'gcs_distinct';
  const recordsCol: ParityColumn = final === 'bigquery' ? 'bq_rows' : 'gcs_records';
  for (const c of [...REQUIRED, ...OPTIONAL]) v[c] = null;
  for (const d of ctx.days) {
    const r = d.rows.find((x) => x.site === site);
    if (!r) continue;
    if (r.status === 'ERROR' || ![...REQUIRED, distinctCol, recordsCol].every((c) => typeof r[c] === 'number')) {
      skipped.push(d.day);
      continue;
    }
    used.push(d.day);
    for (const c of [...REQUIRED, ...OPTIONAL]) {
      const x = r[c];
      if (typeof x === 'number') v[c] = (v[c] ?? 0) + x;
    }
  }
  const finalDistinct = v[distinctCol] ?? 0;
  const accepted = v.accepted_distinct ?? 0;
  // Parity from the loss side, as each row's: ids that landed unaccepted never offset lost ones.
  const held = accepted - (v.missing ?? 0);
  const days = ctx.days.flatMap((d) =>
    d.rows.filter((x) => x.site === site).map((r) => ({ day: d.day, status: r.status })),
  );
  const summed: RowStatus = used.length === 0 ? 'ERROR' : statusOf(held, accepted, ctx.thresholds);
  const status = worstStatus([summed, ...days.flatMap((d) => (isRowStatus(d.status) ? [d.status] : []))]);
  return {
    used,
    skipped,
    v,
    final,
    finalDistinct,
    finalRecords: v[recordsCol] ?? 0,
    parity: used.length === 0 ? null : formatParity(held, accepted),
    status,
    worstDays: status === 'PASS' ? [] : days.filter((d) => d.status === status).map((d) => d.day),
  };
}

type StepKind = 'total' | 'reject' | 'repeat' | 'loss' | 'gain' | 'note';
interface Step {
  label: string;
  kind: StepKind;
  /** The bar spans [from, to]; value is the signed change (or the level, for totals). */
  from: number;
  to: number;
  value: number;
  /** Share shown beside the count: of requests for the proxy's lines, of accepted ids after. */
  share: string;
  tip: string;
}

const KIND_LEGEND: readonly [StepKind, string][] = [
  ['total', 'level: requests, accepted, landed'],
  ['reject', 'rejected at the proxy (the client got an error)'],
  ['repeat', '2xx lines repeating an id (not loss)'],
  ['loss', 'accepted but not landed, by cause'],
  ['gain', 'landed but not accepted that day'],
  ['note', 'not in the flow: duplicates, Kafka messages'],
];

function buildSteps(s: RangeSum, ctx: Ctx): { steps: Step[]; closes: boolean } {
  const n = (c: ParityColumn): number => s.v[c] ?? 0;
  const requests = n('proxy_requests');
  const acceptedIds = n('accepted_distinct');
  const ofRequests = (x: number) => share(x, requests);
  const ofAccepted = (x: number) => share(x, acceptedIds);
  const steps: Step[] = [];
  let level = requests;
  const total = (label: string, value: number, tip: string, base: (x: number) => string) =>
    steps.push({ label, kind: 'total', from: 0, to: value, value, share: base(value), tip });
  const change = (label: string, kind: StepKind, delta: number, tip: string, base: (x: number) => string) => {
    steps.push({
      label,
      kind,
      from: Math.min(level, level + delta),
      to: Math.max(level, level + delta),
      value: delta,
      share: base(Math.abs(delta)),
      tip,
    });
    level += delta;
  };
  total('proxy requests', requests, 'proxy access-log lines', ofRequests);
  change('rejected 413', 'reject', -n('rejected_413'), 'lines with status 413: body over the proxy limit', ofRequests);
  change(
    'rejected 502',
    'reject',
    -n('rejected_502'),
    'lines with status 502: upstream failure (a retry may succeed)',
    ofRequests,
  );
  change('rejected other', 'reject', -n('rejected_other'), 'every other non-2xx line', ofRequests);
  const repeats = n('proxy_accepted') - acceptedIds;
  if (repeats !== 0) {
    // Lines to ids: only worth two bars when some id was accepted more than once.
    total('accepted lines (2xx)', n('proxy_accepted'), 'proxy lines with a 2xx status', ofRequests);
    level = n('proxy_accepted');
    change(
      '2xx repeating an id',
      'repeat',
      -repeats,
      'accepted lines whose request_id was already accepted: one id, counted once below',
      ofRequests,
    );
  }
  total(
    'accepted ids',
    acceptedIds,
    `distinct request_ids with at least one 2xx line${repeats === 0 ? ' (= accepted lines: no id accepted twice)' : ''}`,
    ofAccepted,
  );
  level = acceptedIds;
  const kafka = s.v.lost_before_kafka !== null || s.v.in_flight !== null;
  if (kafka)
    change(
      'lost before Kafka',
      'loss',
      -n('lost_before_kafka'),
      'missing ids in no Kafka cluster: the publisher failed and did not fall back',
      ofAccepted,
    );
  change(
    'unknown site',
    'loss',
    -n('unknown_site'),
    'missing ids whose wm-site-id named no configured site: every sink filter dropped them',
    ofAccepted,
  );
  if (kafka)
    change(
      'in flight',
      'loss',
      -n('in_flight'),
      "missing ids in Kafka beyond the sink group's committed offset: not yet written",
      ofAccepted,
    );
  change('missing, unexplained', 'loss', -n('missing_unexplained'), 'missing ids no cause explains', ofAccepted);
  change(
    'landed after reject',
    'gain',
    n('landed_after_reject'),
    'landed ids whose every proxy line was rejected: the backend processed them anyway',
    ofAccepted,
  );
  change(
    'landed without proxy',
    'gain',
    n('landed_without_proxy'),
    'landed ids with no proxy line that day',
    ofAccepted,
  );
  const closes = level === s.finalDistinct;
  total(`landed ids (${s.final})`, s.finalDistinct, `distinct request_ids in the final tier (${s.final})`, ofAccepted);
  steps.push({
    label: 'duplicate records',
    kind: 'note',
    from: s.finalDistinct,
    to: s.finalRecords,
    value: s.finalRecords - s.finalDistinct,
    share: ofAccepted(s.finalRecords - s.finalDistinct),
    tip: `landed records beyond the first of each id: ${s.final} records = ${fmt(s.finalRecords)}; not loss, but a naive count includes them`,
  });
  if (s.v.kafka_records !== null && ctx.configured.kafka) {
    const k = n('kafka_records');
    steps.push({
      label: 'Kafka messages',
      kind: 'note',
      from: 0,
      to: k,
      value: k,
      share: ofAccepted(k),
      tip: 'messages in all configured Kafka clusters, duplicates included',
    });
  }
  return { steps, closes };
}

const WF = {
  width: 660,
  labelX: 186,
  barX0: 194,
  barX1: 486,
  valueX: 566,
  shareX: 652,
  rowH: 22,
  barH: 14,
  top: 30,
} as const;

function renderWaterfalls(ctx: Ctx): string {
  const used = new Set(
    ctx.sites.flatMap((site) => {
      const s = sumRange(ctx, site);
      return s.used.length === 0 ? [] : buildSteps(s, ctx).steps.map((x) => x.kind);
    }),
  );
  const legend = KIND_LEGEND.filter(([k]) => used.has(k))
    .map(
      ([k, text]) =>
        `<li><svg class="swatch" width="22" height="12" aria-hidden="true"><rect class="k-${k}" x="1" y="1" width="20" height="10"/></svg>${esc(text)}</li>`,
    )
    .join('');
  // ALL first: the whole run's answer, then the sites that make it up.
  const figures = [ALL_SITES, ...ctx.sites.filter((s) => s !== ALL_SITES)].map((site) => renderWaterfall(site, ctx));
  return [
    '<section>',
    '<h2>Where the requests went</h2>',
    `<p class="caption">One waterfall for ALL, then one per site, <b>summed over the range</b> (every day in it without ERROR; days left out are named under each chart). From proxy requests, the proxy's rejections are taken off to reach accepted ids; accepted ids that never landed are taken off by cause, ids that landed without being accepted are added, giving the final tier's distinct ids. Duplicates and Kafka messages are drawn dashed beside the flow: they are not loss. Counts are on the right with their share (of requests for the proxy's lines, of accepted ids after that); bars are to scale, so small causes are thin: read the count.</p>`,
    `<ul class="legend">${legend}</ul>`,
    `<div class="charts">${figures.join('\n')}</div>`,
    '</section>',
  ].join('\n');
}

function renderWaterfall(site: string, ctx: Ctx): string {
  const s = sumRange(ctx, site);
  const skippedNote =
    s.skipped.length === 0 ? '' : `<p class="skipped">Left out (ERROR): ${s.skipped.map(esc).join(', ')}</p>`;
  const head = `<figcaption><span class="site">${esc(site)}</span> ${badge(s.status)} <span class="pct">${s.parity === null ? '' : `parity ${esc(s.parity)} %`}</span> <span class="muted">${s.used.length} of ${ctx.days.length} days</span></figcaption>`;
  if (s.used.length === 0) {
    return `<figure class="wf">${head}<p class="nodata">No day without ERROR for ${esc(site)}: nothing to chart.</p>${skippedNote}</figure>`;
  }
  const { steps, closes } = buildSteps(s, ctx);
  const ticks = niceTicks(0, Math.max(1, ...steps.map((x) => x.to)), 4);
  const max = ticks.at(-1)!;
  const scale = (x: number) => WF.barX0 + ((WF.barX1 - WF.barX0) * x) / max;
  const height = WF.top + steps.length * WF.rowH + 8;
  const out: string[] = [];
  out.push(
    `<svg class="wf" viewBox="0 0 ${WF.width} ${height}" width="${WF.width}" height="${height}" role="img" aria-label="${esc(`Waterfall for ${site}: ${fmt(s.v.proxy_requests ?? 0)} proxy requests to ${fmt(s.finalDistinct)} landed ids`)}">`,
  );
  for (const t of ticks) {
    const x = num(scale(t));
    out.push(`<line class="grid" x1="${x}" y1="${WF.top - 6}" x2="${x}" y2="${height - 6}"/>`);
    out.push(`<text class="tick" x="${x}" y="${WF.top - 10}" text-anchor="middle">${esc(fmt(t))}</text>`);
  }
  out.push(`<text class="colhead" x="${WF.valueX}" y="${WF.top - 10}" text-anchor="end">count</text>`);
  out.push(`<text class="colhead" x="${WF.shareX}" y="${WF.top - 10}" text-anchor="end">share</text>`);
  steps.forEach((step, i) => {
    const y = WF.top + i * WF.rowH;
    const x0 = scale(step.from);
    // Causes of a few ids are a fraction of a pixel to scale: drawn 3 px wide so they are seen, their count says how many.
    const w = step.to === step.from ? 0 : Math.max(3, scale(step.to) - x0);
    const signed =
      step.kind === 'total' || step.label === 'Kafka messages'
        ? fmt(step.value)
        : step.value === 0
          ? '0'
          : step.value > 0
            ? `+${fmt(step.value)}`
            : `−${fmt(-step.value)}`;
    out.push(`<g class="step"><title>${esc(`${step.label}: ${signed} — ${step.tip}`)}</title>`);
    if (i > 0 && step.kind !== 'note' && step.kind !== 'total') {
      // The connector: where the previous bar ended, this one starts.
      const prev = steps[i - 1]!;
      const at = prev.kind === 'total' ? prev.to : step.value < 0 ? step.to : step.from;
      out.push(
        `<line class="conn" x1="${num(scale(at))}" y1="${y - WF.rowH + WF.barH + 4}" x2="${num(scale(at))}" y2="${y + 4}"/>`,
      );
    }
    out.push(
      `<text class="label${step.kind === 'total' ? ' strong' : ''}" x="${WF.labelX}" y="${y + WF.barH}" text-anchor="end">${esc(step.label)}</text>`,
    );
    if (w > 0)
      out.push(`<rect class="k-${step.kind}" x="${num(x0)}" y="${y + 3}" width="${num(w)}" height="${WF.barH}"/>`);
    out.push(
      `<text class="value${step.kind === 'total' ? ' strong' : ''}${step.value === 0 && step.kind !== 'total' ? ' zero' : ''}" x="${WF.valueX}" y="${y + WF.barH}" text-anchor="end">${esc(signed)}</text>`,
    );
    out.push(`<text class="share" x="${WF.shareX}" y="${y + WF.barH}" text-anchor="end">${esc(step.share)}</text>`);
    out.push('</g>');
  });
  out.push('</svg>');
  const n = (c: ParityColumn) => s.v[c];
  const notes: string[] = [];
  const late = n('late_arrivals');
  if (late !== null && late !== undefined)
    notes.push(
      `<b>${esc(fmt(late))}</b> late arrivals: records found in a later day's folder, counted in their own day`,
    );
  const retried = n('retry_recovered');
  if (retried !== null && retried !== undefined)
    notes.push(
      `<b>${esc(fmt(retried))}</b> ids accepted after a rejected attempt (a retry that succeeded, not a loss)`,
    );
  const lost = (['lost_413', 'lost_502', 'lost_other'] as const).map((c) => n(c));
  if (lost.every((x) => typeof x === 'number'))
    notes.push(
      `ids never accepted: <b>${esc(fmt(lost[0]!))}</b> last saw 413, <b>${esc(fmt(lost[1]!))}</b> 502, <b>${esc(fmt(lost[2]!))}</b> other`,
    );
  const xr = n('cross_region_duplicates');
  if (typeof xr === 'number')
    notes.push(`<b>${esc(fmt(xr))}</b> ids in both regional Kafka clusters (fallback or replay, not loss)`);
  if (!closes)
    notes.push(
      '<b class="warn-text">The steps do not add up to the landed ids: the rows break an identity (a bug, not the data).</b>',
    );
  return `<figure class="wf">${head}${out.join('')}<ul class="notes">${notes.map((x) => `<li>${x}</li>`).join('')}</ul>${skippedNote}</figure>`;
}

// ---------------------------------------------------------------------------------------------
// Trend

const TR = { width: 1300, height: 380, left: 64, right: 150, top: 24, bottom: 56 } as const;
/** Okabe–Ito, legible to the common colour-vision deficiencies; ALL is black, UNKNOWN grey. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C6D31'] as const;
const DASHES = ['', '7 4', '2 3', '9 3 2 3', '4 4', '12 4'] as const;

function renderTrend(ctx: Ctx): string {
  const { warnPct, failPct } = ctx.thresholds;
  const series = ctx.sites.map((site, i) => {
    const isAll = site === ALL_SITES;
    const isUnknown = site === UNKNOWN_SITE;
    return {
      site,
      color: isAll ? '#111111' : isUnknown ? '#7a7a7a' : PALETTE[i % PALETTE.length]!,
      dash: isAll ? '' : isUnknown ? '3 3' : DASHES[i % DASHES.length]!,
      width: isAll ? 3 : 2,
      points: ctx.days.map((d) => {
        const r = d.rows.find((x) => x.site === site);
        const p = r && r.status !== 'ERROR' && r.parity_pct !== null ? Number(r.parity_pct) : null;
        return {
          day: d.day,
          value: p !== null && Number.isFinite(p) ? p : null,
          status: r ? String(r.status) : 'none',
        };
      }),
    };
  });
  const values = series.flatMap((s) => s.points.flatMap((p) => (p.value === null ? [] : [p.value])));
  const gap = Math.max(warnPct - failPct, 0.1);
  // Lines far below failPct would squash the band that matters (failPct..100) into a few pixels:
  // the axis stops at failPct − 3 gaps, and lower points sit on the bottom edge with their value.
  const floorLimit = failPct - 3 * gap;
  const minV = values.length ? Math.min(...values) : failPct;
  const maxV = values.length ? Math.max(...values) : 100;
  const lo0 = Math.min(failPct - gap, Math.max(minV - gap / 2, floorLimit));
  const hi0 = Math.max(100, warnPct, maxV) + gap / 4;
  const ticks = niceTicks(lo0, hi0, 8);
  const lo = ticks[0]!;
  const hi = ticks.at(-1)!;
  const plotW = TR.width - TR.left - TR.right;
  const plotH = TR.height - TR.top - TR.bottom;
  const bottom = TR.top + plotH;
  const y = (v: number) => TR.top + plotH * (1 - (Math.min(Math.max(v, lo), hi) - lo) / (hi - lo));
  const n = ctx.days.length;
  const x = (i: number) => (n <= 1 ? TR.left + plotW / 2 : TR.left + 20 + ((plotW - 40) * i) / (n - 1));
  const out: string[] = [];
  out.push(
    `<svg class="trend" viewBox="0 0 ${TR.width} ${TR.height}" width="${TR.width}" height="${TR.height}" role="img" aria-label="Parity per site and day against the thresholds">`,
  );
  // Bands: under failPct, between, above warnPct.
  out.push(
    `<rect class="band-fail" x="${TR.left}" y="${num(y(failPct))}" width="${plotW}" height="${num(bottom - y(failPct))}"/>`,
  );
  out.push(
    `<rect class="band-warn" x="${TR.left}" y="${num(y(warnPct))}" width="${plotW}" height="${num(y(failPct) - y(warnPct))}"/>`,
  );
  for (const t of ticks) {
    out.push(`<line class="grid" x1="${TR.left}" y1="${num(y(t))}" x2="${TR.left + plotW}" y2="${num(y(t))}"/>`);
    out.push(`<text class="tick" x="${TR.left - 6}" y="${num(y(t) + 4)}" text-anchor="end">${esc(trimPct(t))}</text>`);
  }
  out.push(
    `<text class="axis-title" x="14" y="${num(TR.top + plotH / 2)}" transform="rotate(-90 14 ${num(TR.top + plotH / 2)})" text-anchor="middle">parity %</text>`,
  );
  if (lo <= 100 && 100 <= hi)
    out.push(`<line class="hundred" x1="${TR.left}" y1="${num(y(100))}" x2="${TR.left + plotW}" y2="${num(y(100))}"/>`);
  out.push(
    `<line class="th-warn" x1="${TR.left}" y1="${num(y(warnPct))}" x2="${TR.left + plotW}" y2="${num(y(warnPct))}"/>`,
  );
  out.push(
    `<line class="th-fail" x1="${TR.left}" y1="${num(y(failPct))}" x2="${TR.left + plotW}" y2="${num(y(failPct))}"/>`,
  );
  // Days: labels, and a marker where a day has an ERROR row.
  const every = Math.max(1, Math.ceil(n / 16));
  ctx.days.forEach((d, i) => {
    const xi = num(x(i));
    out.push(`<line class="xtick" x1="${xi}" y1="${bottom}" x2="${xi}" y2="${bottom + 5}"/>`);
    if (i % every === 0 || i === n - 1)
      out.push(`<text class="tick" x="${xi}" y="${bottom + 18}" text-anchor="middle">${esc(d.day)}</text>`);
    const errored = d.rows.some((r) => r.status === 'ERROR');
    if (errored) {
      out.push(
        `<g><title>${esc(`${d.day}: ERROR — ${String(d.rows.find((r) => r.error)?.error ?? 'a tier could not be read')}`)}</title>`,
      );
      out.push(`<rect class="err-band" x="${num(x(i) - 14)}" y="${TR.top}" width="28" height="${plotH}"/>`);
      out.push(`<text class="err-label" x="${xi}" y="${bottom + 34}" text-anchor="middle">ERROR</text></g>`);
    }
  });
  out.push(`<rect class="frame" x="${TR.left}" y="${TR.top}" width="${plotW}" height="${plotH}"/>`);
  // Right-margin labels: each line's site at its last point, and the two thresholds.
  const ends: { text: string; cls: string; color: string; y: number }[] = [
    { text: `WARN < ${pct(warnPct)}`, cls: 'th-label warn-text', color: '', y: y(warnPct) },
    { text: `FAIL < ${pct(failPct)}`, cls: 'th-label fail-text', color: '', y: y(failPct) },
  ];
  const pinnedAt = new Map<number, number>();
  for (const s of series) {
    const segments: string[][] = [[]];
    s.points.forEach((p, i) => {
      if (p.value === null) segments.push([]);
      else segments.at(-1)!.push(`${num(x(i))},${num(y(p.value))}`);
    });
    for (const seg of segments) {
      if (seg.length > 1)
        out.push(
          `<polyline class="series" points="${seg.join(' ')}" stroke="${s.color}" stroke-width="${s.width}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
        );
    }
    s.points.forEach((p, i) => {
      if (p.value === null) return;
      const xi = num(x(i));
      const tip = `${s.site} ${p.day}: ${p.value.toFixed(4)} % ${p.status}`;
      if (p.value < lo) {
        // Below the axis: pinned to the bottom edge, pointing down, named and valued; several on one day stack up.
        const k = pinnedAt.get(i) ?? 0;
        pinnedAt.set(i, k + 1);
        out.push(
          `<g><title>${esc(`${tip} (below the axis)`)}</title><path d="M${num(x(i) - 5)},${bottom - 9} L${num(x(i) + 5)},${bottom - 9} L${xi},${bottom - 1} Z" fill="${s.color}"/><text class="pinned halo" x="${xi}" y="${bottom - 13 - 14 * k}" text-anchor="middle" fill="${s.color}">${esc(`${s.site} ${p.value.toFixed(4).slice(0, -2)}`)}</text></g>`,
        );
      } else {
        out.push(
          `<circle cx="${xi}" cy="${num(y(p.value))}" r="${s.site === ALL_SITES ? 4 : 3.2}" fill="${s.color}"><title>${esc(tip)}</title></circle>`,
        );
      }
    });
    const last = [...s.points].reverse().find((p) => p.value !== null);
    // A series whose last point is pinned is already named beside it.
    if (last && last.value !== null && last.value >= lo)
      ends.push({ text: s.site, cls: 'end-label', color: s.color, y: y(last.value) });
  }
  // End labels, pushed apart so that converging lines stay readable.
  ends.sort((a, b) => a.y - b.y || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  for (let i = 1; i < ends.length; i++) ends[i]!.y = Math.max(ends[i]!.y, ends[i - 1]!.y + 14);
  const overflow = ends.length ? ends.at(-1)!.y - (bottom + 10) : 0;
  if (overflow > 0) for (const e of ends) e.y -= overflow;
  for (const e of ends)
    out.push(
      `<text class="${e.cls}" x="${TR.left + plotW + 8}" y="${num(e.y + 4)}"${e.color ? ` fill="${e.color}"` : ''}>${esc(e.text)}</text>`,
    );
  out.push('</svg>');
  const legend = series
    .map(
      (s) =>
        `<li><svg class="swatch" width="30" height="12" aria-hidden="true"><line x1="1" y1="6" x2="29" y2="6" stroke="${s.color}" stroke-width="${s.width}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/></svg>${esc(s.site)}</li>`,
    )
    .join('');
  const pinned = values.some((v) => v < lo);
  return [
    '<section>',
    '<h2>Parity trend</h2>',
    `<p class="caption">Parity % per day, one line per site (ALL in black), against the thresholds: the red band is FAIL (below ${esc(pct(failPct))}), the amber band WARN (below ${esc(pct(warnPct))}). A gap in a line is a day without parity (ERROR, marked on the axis, or no accepted ids).${pinned ? ` Points below ${esc(trimPct(lo))} % are pinned to the bottom edge as ▼ with their value, so that the thresholds stay readable.` : ''}</p>`,
    `<ul class="legend">${legend}</ul>`,
    `<div class="chart-wrap">${out.join('')}</div>`,
    '</section>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Tables

const TIER_OF: Partial<Record<ParityColumn, Tier>> = {
  kafka_records: 'kafka',
  cross_region_duplicates: 'kafka',
  unroutable: 'kafka',
  lost_before_kafka: 'kafka',
  in_flight: 'kafka',
  kafka_malformed: 'kafka',
  kafka_offset_records: 'kafka',
  gcs_records: 'gcs',
  gcs_distinct: 'gcs',
  gcs_malformed: 'gcs',
  late_arrivals: 'gcs',
  gcs_out_of_window: 'gcs',
  bq_rows: 'bigquery',
  bq_distinct: 'bigquery',
  bq_malformed: 'bigquery',
};

/** Where the region columns (kafka_<region>) go in a group. */
const REGIONS = 'kafka_<region>' as const;
type GroupColumn = ParityColumn | typeof REGIONS;

/**
 * A day's ~45 columns in three tables that each fit the page, instead of one table cut at its
 * edge: the counts and the verdict, the causes that split the gap, then the tiers' input quality.
 * `site` heads every table's rows; a column no group names joins the last one.
 */
const GROUPS: readonly { title: string; columns: readonly GroupColumn[] }[] = [
  {
    title: 'Counts and verdict',
    columns: [
      'date',
      'site',
      'proxy_requests',
      'proxy_accepted',
      'rejected_413',
      'rejected_502',
      'rejected_other',
      'kafka_records',
      'gcs_records',
      'gcs_distinct',
      'bq_rows',
      'bq_distinct',
      'duplicates',
      'unexplained',
      'parity_pct',
      'status',
      'status_reason',
    ],
  },
  {
    title: 'Causes',
    columns: [
      'site',
      'proxy_distinct',
      'accepted_distinct',
      'retry_recovered',
      'lost_413',
      'lost_502',
      'lost_other',
      'missing',
      'lost_before_kafka',
      'unknown_site',
      'in_flight',
      'missing_unexplained',
      'landed_not_accepted',
      'landed_after_reject',
      'landed_without_proxy',
      'cross_region_duplicates',
      'unroutable',
    ],
  },
  {
    title: 'Tiers and input',
    columns: [
      'site',
      'proxy_malformed',
      'proxy_out_of_window',
      'gcs_malformed',
      'gcs_out_of_window',
      'late_arrivals',
      'kafka_malformed',
      'kafka_offset_records',
      REGIONS,
      'bq_malformed',
      'volume_drop',
      'error',
    ],
  },
];

/** The groups with every parity column placed once (site in each), less the columns of tiers no row has. */
function tableGroups(ctx: Ctx): { title: string; columns: GroupColumn[] }[] {
  const placed = new Set<GroupColumn>(GROUPS.flatMap((g) => g.columns));
  const rest = PARITY_COLUMNS.map(([c]) => c).filter((c) => !placed.has(c));
  const shown = (c: GroupColumn) => (c === REGIONS ? ctx.configured.kafka : !hiddenColumn(c, ctx));
  return GROUPS.map((g, i) => {
    const columns = i === GROUPS.length - 1 ? [...g.columns.slice(0, -1), ...rest, g.columns.at(-1)!] : [...g.columns];
    return { title: g.title, columns: columns.filter(shown) };
  });
}

/** A tier's column is hidden in the HTML when the tier is not configured (empty in every row); the CSV keeps it. */
function hiddenColumn(c: ParityColumn, ctx: Ctx): boolean {
  const tier = TIER_OF[c];
  return tier !== undefined && !ctx.configured[tier];
}

function renderTables(ctx: Ctx): string {
  const groups = tableGroups(ctx);
  const docs = new Map<string, string>(PARITY_COLUMNS);
  const headCell = (c: GroupColumn, first: boolean): string[] => {
    if (c === REGIONS)
      return ctx.regions.map(
        (g) =>
          `<th scope="col" title="${esc(`${regionColumn(g)}: messages in the ${g} Kafka cluster (EXPIRED: its retention no longer holds the day)`)}">${breakable(regionColumn(g))}</th>`,
      );
    const cls = [
      c === 'date' ? 'stick0' : c === 'site' ? (first ? 'stick1' : 'stick0') : '',
      c === 'status' ? 'edge' : '',
    ]
      .filter(Boolean)
      .join(' ');
    const text = c === 'status_reason' || c === 'volume_drop' || c === 'error' ? ' txt' : '';
    return [`<th scope="col" title="${esc(`${c}: ${docs.get(c) ?? ''}`)}" class="${cls}${text}">${breakable(c)}</th>`];
  };
  const tables = ctx.days.map((d) => {
    const v = ctx.verdicts.get(d.day)!;
    const parts = groups.map((g, gi) => {
      const head = g.columns.flatMap((c) => headCell(c, gi === 0)).join('');
      const body = d.rows.map((r) => {
        const cls = r.site === ALL_SITES ? 'all' : r.site === UNKNOWN_SITE ? 'unknown' : '';
        const cells = g.columns.flatMap((c) => {
          if (c !== REGIONS) return [tableCell(r, c, ctx, c === 'status', gi === 0)];
          return ctx.regions.map((region) => {
            const x = r.regions?.[region] ?? null;
            return x === null
              ? emptyCell(reasonEmpty(r, 'kafka_records', ctx))
              : `<td class="num">${esc(typeof x === 'number' ? fmt(x) : String(x))}</td>`;
          });
        });
        return `<tr${cls ? ` class="${cls}"` : ''}>${cells.join('')}</tr>`;
      });
      return [
        `<div class="table-wrap group"><table class="day">`,
        `<caption>${esc(g.title)}</caption>`,
        `<thead><tr>${head}</tr></thead>`,
        `<tbody>${body.join('\n')}</tbody>`,
        '</table></div>',
      ].join('\n');
    });
    const behind = v.rows.length === 0 ? '' : ` <span class="behind">${esc(v.text.slice(v.status.length + 2))}</span>`;
    return [`<h3 id="day-${esc(d.day)}">${esc(d.day)} ${badge(v.status)}${behind}</h3>`, ...parts].join('\n');
  });
  const hidden = PARITY_COLUMNS.map(([c]) => c).filter((c) => hiddenColumn(c, ctx));
  const hiddenNote =
    hidden.length === 0
      ? ''
      : ` Columns of tiers this run did not configure are left out here (the CSV keeps them, empty): ${hidden.map((c) => `<code>${esc(c)}</code>`).join(', ')}.`;
  return [
    '<section>',
    '<h2>Parity report, day by day</h2>',
    `<p class="caption">Every column of <code>parity-DATE.csv</code>, in three tables per day so that each fits the page: the counts and the verdict (the contract\'s columns up to <code>status</code>, then <code>status_reason</code>), the causes that split the gap, and each tier\'s input quality with one <code>kafka_&lt;region&gt;</code> per cluster. Each heading names the day\'s worst status and the rows behind it. Hover a header for its definition (also listed at the end); “–” is an empty cell, and hovering it says why. Counts are grouped by thousands here; the CSV holds them plain.${hiddenNote}</p>`,
    ...tables,
    '</section>',
  ].join('\n');
}

function tableCell(r: ParityRow, c: ParityColumn, ctx: Ctx, edge: boolean, withDate = true): string {
  const v = r[c];
  const stick = c === 'date' ? ' stick0' : c === 'site' ? (withDate ? ' stick1' : ' stick0') : '';
  const e = edge ? ' edge' : '';
  // undefined too: rows read back from an older CSV may lack the newer columns.
  if (v === null || v === undefined || v === '') return emptyCell(reasonEmpty(r, c, ctx), `${stick}${e}`);
  if (c === 'status') return `<td class="status${e}">${badge(String(v))}</td>`;
  if (c === 'error') return `<td class="err">${esc(String(v))}</td>`;
  if (c === 'status_reason' || c === 'volume_drop') return `<td class="txt">${esc(String(v))}</td>`;
  if (c === 'date' || c === 'site') return `<th scope="row" class="${stick.trim()}">${esc(String(v))}</th>`;
  return `<td class="num${e}">${esc(typeof v === 'number' ? fmt(v) : String(v))}</td>`;
}

function emptyCell(reason: string, extra = ''): string {
  return `<td class="empty${extra}" title="${esc(reason)}">–</td>`;
}

function reasonEmpty(r: ParityRow, c: ParityColumn, ctx: Ctx): string {
  const tier = TIER_OF[c];
  if (tier && !ctx.configured[tier]) return `empty: the ${tier} tier is not configured`;
  if (c === 'error') return 'no error: every tier was read';
  if (c === 'kafka_offset_records' && r.site !== ALL_SITES) return 'empty: the offsets count is on the ALL row only';
  if (r.status === 'ERROR') return `empty: not counted — ${r.error ? String(r.error) : 'a tier could not be read'}`;
  if (c === 'parity_pct') return 'empty: ids landed but none was accepted, so parity is undefined';
  if (tier === 'kafka') return 'empty: Kafka could not be counted for this day (retention expired or not read)';
  return 'empty: not counted for this row';
}

function renderDefinitions(ctx: Ctx): string {
  const items = [
    ...PARITY_COLUMNS.map(([c, doc]) => `<div><dt><code>${esc(c)}</code></dt><dd>${esc(doc)}</dd></div>`),
    ...ctx.regions.map(
      (g) =>
        `<div><dt><code>${esc(regionColumn(g))}</code></dt><dd>messages in the ${esc(g)} Kafka cluster (EXPIRED: its retention no longer holds the day)</dd></div>`,
    ),
    ...STATUSES.map((s) => `<div><dt>${badge(s)}</dt><dd>${esc(STATUS_MEANS[s])}</dd></div>`),
  ];
  return ['<section>', '<h2>Column definitions</h2>', `<dl class="defs">${items.join('\n')}</dl>`, '</section>'].join(
    '\n',
  );
}

// ---------------------------------------------------------------------------------------------
// Helpers

function chartSites(configured: readonly string[], days: readonly { rows: ParityRow[] }[]): string[] {
  const out = configured.filter((s) => s !== ALL_SITES);
  for (const d of days)
    for (const r of d.rows) {
      const s = String(r.site);
      if (s !== ALL_SITES && !out.includes(s)) out.push(s);
    }
  return [...out, ALL_SITES];
}

function regionsOf(days: readonly { rows: ParityRow[] }[]): string[] {
  const out: string[] = [];
  for (const d of days)
    for (const r of d.rows) for (const g of Object.keys(r.regions ?? {})) if (!out.includes(g)) out.push(g);
  return out;
}

/** A tier is configured when any row has a value in one of its columns. */
function configuredTiers(days: readonly { rows: ParityRow[] }[]): Record<Tier, boolean> {
  const rows = days.flatMap((d) => d.rows);
  const has = (tier: Tier) =>
    rows.some(
      (r) =>
        (Object.keys(TIER_OF) as ParityColumn[]).some(
          (c) => TIER_OF[c] === tier && r[c] !== null && r[c] !== undefined,
        ) ||
        (tier === 'kafka' && r.regions !== undefined),
    );
  return { kafka: has('kafka'), gcs: has('gcs'), bigquery: has('bigquery') };
}

function badge(status: string, size = ''): string {
  const known = isRowStatus(status);
  const cls = ['badge', known ? `s-${status}` : '', size].filter(Boolean).join(' ');
  const tip = known ? STATUS_MEANS[status] : 'no status';
  return `<span class="${cls}" title="${esc(tip)}">${esc(status || '–')}</span>`;
}

/** A header that may wrap after its underscores, so 40 columns fit without a page of scrolling. */
function breakable(name: string): string {
  return name.split('_').map(esc).join('_<wbr>');
}

/** A percentage of `whole`, to two decimals under 10 % (where the causes are). */
function share(part: number, whole: number): string {
  if (whole === 0) return '';
  const p = (100 * part) / whole;
  return `${p >= 10 || p === 0 ? p.toFixed(1) : p.toFixed(2)} %`;
}

function pct(v: number): string {
  return `${trimPct(v)} %`;
}

function trimPct(v: number): string {
  return String(Number(v.toFixed(4)));
}

/** SVG coordinates to one decimal: short, and stable. */
function num(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

/** Round tick values spanning [lo, hi]: about `count` steps of 1, 2, 2.5 or 5 × 10^k. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = Math.max(hi - lo, 1e-9);
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10] as const).map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(lo / step + 1e-9) * step;
  const out: number[] = [];
  for (let t = first, i = 0; t < hi + step - 1e-9 && i < 50; i++, t = first + i * step) out.push(Number(t.toFixed(6)));
  return out;
}

const CSS = `
:root{--ink:#1d2330;--muted:#5b6474;--line:#d9dde3;--bg:#f5f6f8;
--pass:#14532d;--pass-bg:#d8f0df;--pass-bd:#7fbf92;--warn:#6b4a00;--warn-bg:#ffefb8;--warn-bd:#d9b44a;
--fail:#8a1c12;--fail-bg:#fbd3cf;--fail-bd:#e0867d;--error:#ffffff;--error-bg:#5b3a8c;--error-bd:#3f2566;
--nodata:#ffffff;--nodata-bg:#4b5563;--nodata-bd:#374151}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 "Liberation Sans",Arial,Helvetica,sans-serif}
main{max-width:1380px;margin:0 auto;padding:18px 22px 40px}
h1{font-size:24px;margin:0 0 10px}
h2{font-size:18px;margin:28px 0 6px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 6px}
code{font-family:"Liberation Mono",Menlo,Consolas,monospace;font-size:12px}
header{background:#fff;border:1px solid var(--line);border-radius:6px;padding:14px 18px}
.headline{display:flex;flex-wrap:wrap;gap:18px 36px;align-items:center}
.overall{font-size:16px;font-weight:600}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0}
.facts div{display:flex;gap:6px}.facts dt{color:var(--muted)}.facts dd{margin:0;font-weight:600}
.lede{margin:10px 0 0;color:var(--muted)}
.errors{margin-top:12px;padding:8px 12px;background:#f1ebfa;border-left:4px solid var(--error-bg)}
.errors h2{font-size:14px;margin:0 0 4px;border:0;padding:0}.errors ul{margin:0;padding-left:18px}
.errors code{word-break:break-all}
.caption{color:var(--muted);margin:4px 0 10px;max-width:1100px}
.muted{color:var(--muted);font-size:12px}
.badge{display:inline-block;min-width:44px;text-align:center;padding:0 6px;border:1px solid #999;border-radius:3px;font-size:11px;font-weight:700;letter-spacing:.03em;line-height:17px}
.badge.big{font-size:15px;line-height:24px;padding:0 12px;margin-left:6px}
.s-PASS{background:var(--pass-bg);color:var(--pass);border-color:var(--pass-bd)}
.s-WARN{background:var(--warn-bg);color:var(--warn);border-color:var(--warn-bd)}
.s-FAIL{background:var(--fail-bg);color:var(--fail);border-color:var(--fail-bd)}
.s-ERROR{background:var(--error-bg);color:var(--error);border-color:var(--error-bd)}
.s-NO_DATA{background:var(--nodata-bg);color:var(--nodata);border-color:var(--nodata-bd)}
.table-wrap{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:4px}
table{border-collapse:separate;border-spacing:0;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid #eceef2;white-space:nowrap}
thead th{background:#eef1f5;font-size:11.5px;text-align:right;vertical-align:bottom;white-space:normal;line-height:1.2;border-bottom:1px solid #c9ced6}
thead th[title]{cursor:help;text-decoration:underline dotted #9aa3b2}
table.matrix td{text-align:left}table.matrix th{text-align:left}
table.matrix .pct{display:inline-block;min-width:62px;text-align:right}
table.matrix tfoot th,table.matrix tfoot td{border-top:2px solid #9aa3b2;font-weight:600}
table.matrix td.all,table.matrix th.all{background:#f7f8fa}
table.day{font-size:12px}
table.day th,table.day td{padding:3px 6px}
table.day td.num{text-align:right}
table.day th[scope=row]{text-align:left;font-weight:400;background:#fff}
td.empty{color:#98a0ad;text-align:center;cursor:help}
td.txt{white-space:normal;min-width:180px;max-width:300px;font-size:11px;color:#3a4250}
.group{margin-bottom:8px;width:fit-content;max-width:100%}
thead th.txt{text-align:left}
table.day caption{caption-side:top;text-align:left;font-weight:700;font-size:12px;color:var(--muted);padding:4px 8px;position:sticky;left:0}
h3 .behind{font-weight:400;font-size:13px;color:#3a4250;margin-left:6px}
.verdicts-wrap{margin-top:12px;width:fit-content;max-width:100%}
table.verdicts{font-size:13px}table.verdicts th,table.verdicts td{text-align:left}
table.verdicts td.num{text-align:right}
table.verdicts td.behind{white-space:normal;max-width:900px}
td.err{white-space:normal;min-width:420px;max-width:760px;font-family:"Liberation Mono",Menlo,Consolas,monospace;font-size:11px;color:#4a2a7a;word-break:break-all}
.stick0{position:sticky;left:0;z-index:1;min-width:86px;max-width:86px;text-align:left!important}
.stick1{position:sticky;left:86px;z-index:1;min-width:82px;text-align:left!important;border-right:1px solid #c9ced6}
thead .stick0,thead .stick1{background:#eef1f5;z-index:2}
.edge{border-right:2px solid #c9ced6}
tr.all td,tr.all th{font-weight:700;border-top:2px solid #9aa3b2;background:#f7f8fa!important}
tr.unknown th[scope=row]{font-style:italic}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:0 0 10px;font-size:12.5px;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{vertical-align:middle}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(660px,1fr));gap:14px}
figure.wf{margin:0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
figcaption{font-size:15px;margin-bottom:4px;display:flex;gap:10px;align-items:center}
figcaption .site{font-weight:700;font-size:16px}
svg{font-family:"Liberation Sans",Arial,Helvetica,sans-serif;max-width:100%;height:auto;display:block}
svg .grid{stroke:#eceef2;stroke-width:1}
svg .tick{font-size:11px;fill:#6b7280}
svg .colhead{font-size:11px;fill:#6b7280;font-style:italic}
svg .label{font-size:12.5px;fill:#2b3240}
svg .value{font-size:12.5px;fill:#1d2330;font-variant-numeric:tabular-nums}
svg .share{font-size:11px;fill:#6b7280}
svg .strong{font-weight:700}
svg .zero{fill:#9aa3b2}
svg .conn{stroke:#9aa3b2;stroke-width:1;stroke-dasharray:2 2}
.k-total{fill:#3d5a80}.k-reject{fill:#e09f3e}.k-repeat{fill:#a7b0bc}.k-loss{fill:#c0392b}.k-gain{fill:#2a9d8f}
.k-note{fill:#eef1f5;stroke:#3d5a80;stroke-width:1.2;stroke-dasharray:4 2}
.notes{margin:4px 0 0;padding-left:18px;font-size:12.5px;color:#3a4250}
.skipped{margin:4px 0 0;font-size:12px;color:#5b3a8c}
.nodata{color:var(--muted)}
.chart-wrap{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px}
svg .band-fail{fill:#fdeeec}svg .band-warn{fill:#fff8e0}
svg .frame{fill:none;stroke:#c9ced6}
svg .hundred{stroke:#6b7280;stroke-width:1}
svg .th-warn{stroke:#b8860b;stroke-width:1.5;stroke-dasharray:6 4}
svg .th-fail{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:6 4}
svg .th-label{font-size:11.5px;font-weight:700}
.warn-text{fill:#8a6100;color:#8a6100}.fail-text{fill:#a12a1f}
svg .series{fill:none;stroke-linejoin:round;stroke-linecap:round}
svg .xtick{stroke:#9aa3b2}
svg .err-band{fill:#5b3a8c;fill-opacity:.1}
svg .err-label{font-size:11px;font-weight:700;fill:#5b3a8c}
svg .pinned{font-size:11px;font-weight:700}
svg .halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg .end-label{font-size:12.5px;font-weight:700}
svg .axis-title{font-size:12px;fill:#6b7280}
.defs{display:grid;grid-template-columns:1fr 1fr;gap:2px 28px;font-size:12.5px}
.defs div{display:flex;gap:10px;padding:2px 0;border-bottom:1px solid #eceef2}
.defs dt{min-width:190px}.defs dd{margin:0;color:#3a4250}
@media print{body{background:#fff}.table-wrap{overflow:visible}.charts{grid-template-columns:1fr}}
`.trim();
