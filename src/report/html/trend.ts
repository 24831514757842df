/** The HTML report's trend: parity per site and day against the thresholds. */
import { ALL_SITES, UNKNOWN_SITE } from '../../domain.js';
import { esc } from './escape.js';
import { type Ctx, niceTicks, num, pct, rowOf, trimPct } from './parts.js';

const TR = { width: 1300, height: 380, left: 64, right: 150, top: 24, bottom: 56 } as const;
/** Okabe–Ito, legible to the common colour-vision deficiencies; ALL is black, UNKNOWN grey. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C6D31'] as const;
const DASHES = ['', '7 4', '2 3', '9 3 2 3', '4 4', '12 4'] as const;
/** Site labels the right margin holds beside the two thresholds' (14 px apart on a 300 px plot). */
const MAX_END_LABELS = 18;

export function renderTrend(ctx: Ctx): string {
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
        const r = rowOf(d.rows, site);
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
  // Not Math.min(...values): thousands of sites over a range are more arguments than a call takes.
  const minV = values.length ? values.reduce((a, b) => Math.min(a, b)) : failPct;
  const maxV = values.length ? values.reduce((a, b) => Math.max(a, b)) : 100;
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
  // More site labels than the margin holds (about 20 at 14 px): ALL's and the lowest lines' only, so that none
  // is pushed off the chart; the legend names every line.
  const siteEnds = ends.filter((e) => e.cls === 'end-label');
  const unlabelled = Math.max(0, siteEnds.length - MAX_END_LABELS);
  if (unlabelled > 0) {
    const keep = new Set(
      [...siteEnds]
        .sort((a, b) => Number(b.text === ALL_SITES) - Number(a.text === ALL_SITES) || b.y - a.y)
        .slice(0, MAX_END_LABELS),
    );
    ends.splice(0, ends.length, ...ends.filter((e) => e.cls !== 'end-label' || keep.has(e)));
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
    `<p class="caption">Parity % per day, one line per site (ALL in black), against the thresholds: the red band is FAIL (below ${esc(pct(failPct))}), the amber band WARN (below ${esc(pct(warnPct))}). A gap in a line is a day without parity (ERROR, marked on the axis, or no accepted ids).${unlabelled > 0 ? ` Of ${siteEnds.length} lines, ${MAX_END_LABELS} are named at their end (ALL and the lowest at their last day); the legend names every line.` : ''}${pinned ? ` Points below ${esc(trimPct(lo))} % are pinned to the bottom edge as ▼ with their value, so that the thresholds stay readable.` : ''}</p>`,
    `<ul class="legend">${legend}</ul>`,
    `<div class="chart-wrap">${out.join('')}</div>`,
    '</section>',
  ].join('\n');
}
