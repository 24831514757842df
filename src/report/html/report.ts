import { ALL_SITES, type RowStatus } from '../../domain.js';
import type { ParityRow } from '../columns.js';
import { esc } from './escape.js';
import {
  badge,
  chartSites,
  configuredTiers,
  type Ctx,
  pct,
  regionsOf,
  rowOf,
  SEVERITY,
  STATUSES,
  type Tier,
} from './parts.js';
import { CSS } from './style.js';
import { renderDefinitions, tableParts } from './tables.js';
import { renderTrend } from './trend.js';
import { renderWaterfalls, sumRange } from './waterfall.js';
import { lossStripParts, STRIP_CSS, type StripDay } from './loss-strip.js';
import { summarizeDay } from '../summary.js';

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
  /**
   * The tiers the run's config has. A tier none of whose columns has a value is shown as not configured
   * unless named here: one that could not be read at all is configured, and its empty cells say why.
   */
  tiers?: Partial<Record<Tier, boolean>>;
}

/**
 * The parity report of a run as one self-contained HTML page for analysts: overall status, a status
 * matrix (day × site), a waterfall per site from proxy requests to landed ids, the parity trend
 * against the thresholds, and every column of every day's rows. Inline CSS and SVG only: no script,
 * no network (a Content-Security-Policy forbids both). Pure: the same input gives the same bytes.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  return htmlReportParts(input).join('\n');
}

/**
 * renderHtmlReport's page as parts to be joined with newlines (htmlReportChunks), a day's strips or tables
 * each: a report of many sites over a long range is larger than one string can be (V8's limit, 512 MiB).
 */
export function htmlReportParts(input: HtmlReportInput): string[] {
  const days = [...input.days].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const sites = chartSites(input.sites, days);
  const regions = regionsOf(days);
  const configured = configuredTiers(days, input.tiers);
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
    ...lossStripParts(days, sites, input.zoneOf ?? (() => 'UTC')),
    renderWaterfalls(ctx),
    renderTrend(ctx),
    ...tableParts(ctx),
    renderDefinitions(ctx),
    '</main>',
    '</body>',
    '</html>',
    '',
  ];
}

/** The page's text in chunks, as a file is written: each part, then the newline that joins it to the next. */
export function* htmlReportChunks(input: HtmlReportInput): Generator<string> {
  const parts = htmlReportParts(input);
  for (const [i, part] of parts.entries()) yield i < parts.length - 1 ? `${part}\n` : part;
}

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
      return 'No row fails; some warn: parity below warnPct, ids landed that the proxy did not accept, a volume drop, or data on one side only.';
    case 'PASS':
      return 'Every row is at or above warnPct.';
    default:
      return 'The run has no rows.';
  }
}

/**
 * Why a site's range sum has fewer days than the range: its ERROR days, the days it has no row, and those
 * whose row lacks a count the sum needs (a report read back from before a column was added).
 */
function leftOut(ctx: Ctx, site: string, used: readonly string[]): string {
  const rows = ctx.days.map((d) => ({ day: d.day, r: rowOf(d.rows, site) }));
  const errors = rows.filter(({ r }) => r?.status === 'ERROR').length;
  const absent = rows.filter(({ r }) => r === undefined).length;
  const partial = rows.filter(({ day, r }) => r && r.status !== 'ERROR' && !used.includes(day)).length;
  const days = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;
  const parts = [
    ...(errors > 0 ? [`${days(errors)} ERROR, left out`] : []),
    ...(absent > 0 ? [`no row on ${days(absent)}`] : []),
    ...(partial > 0 ? [`${days(partial)} without every count, left out`] : []),
  ];
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

function renderMatrix(ctx: Ctx): string {
  const head = ctx.sites.map((s) => `<th scope="col"${s === ALL_SITES ? ' class="all"' : ''}>${esc(s)}</th>`).join('');
  const body = ctx.days.map((d) => {
    const cells = ctx.sites.map((site) => {
      const r = rowOf(d.rows, site);
      if (!r) return `<td class="empty" title="${esc(`no ${site} row on ${d.day}`)}">–</td>`;
      const tip =
        r.status === 'ERROR' && r.error
          ? `ERROR: ${String(r.error)}`
          : r.parity_pct === null
            ? `${site} ${d.day}: no parity — ${String(r.status_reason || 'nothing was accepted')}`
            : `${site} ${d.day}: parity ${r.parity_pct} %`;
      return `<td class="${site === ALL_SITES ? 'all' : ''}" title="${esc(tip)}">${badge(String(r.status))} <span class="pct">${r.parity_pct === null ? '–' : `${esc(String(r.parity_pct))} %`}</span></td>`;
    });
    return `<tr><th scope="row"><a href="#day-${esc(d.day)}">${esc(d.day)}</a></th>${cells.join('')}</tr>`;
  });
  const totals = ctx.sites.map((site) => {
    const s = sumRange(ctx, site);
    if (s.used.length === 0) return '<td class="empty" title="no day without ERROR">–</td>';
    const worst = s.worstDays.length === 0 ? '' : `; ${s.status} on ${s.worstDays.join(', ')}`;
    const tip = `${site}: summed over ${s.used.length} of ${ctx.days.length} days${leftOut(ctx, site, s.used)}${worst}`;
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
