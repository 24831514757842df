/** The HTML report's waterfalls: per site, summed over the range, from proxy requests to landed ids. */
import { ALL_SITES, isRowStatus, type RowStatus } from '../../domain.js';
import { formatParity, statusOf } from '../../reconcile/attribute.js';
import type { ParityColumn } from '../columns.js';
import { esc, fmt } from './escape.js';
import { badge, type Ctx, niceTicks, num, rowOf, share } from './parts.js';
import { worstStatus } from '../manifest.js';

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

export interface RangeSum {
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

export function sumRange(ctx: Ctx, site: string): RangeSum {
  const used: string[] = [];
  const skipped: string[] = [];
  const v: Partial<Record<ParityColumn, number | null>> = {};
  const final = ctx.configured.bigquery ? 'bigquery' : 'gcs';
  const distinctCol: ParityColumn = final === 'bigquery' ? 'bq_distinct' : 'gcs_distinct';
  const recordsCol: ParityColumn = final === 'bigquery' ? 'bq_rows' : 'gcs_records';
  for (const c of [...REQUIRED, ...OPTIONAL]) v[c] = null;
  for (const d of ctx.days) {
    const r = rowOf(d.rows, site);
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
  const days = ctx.days.flatMap((d) => {
    const r = rowOf(d.rows, site);
    return r ? [{ day: d.day, status: r.status }] : [];
  });
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

export function renderWaterfalls(ctx: Ctx): string {
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
