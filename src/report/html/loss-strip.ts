import { DAY_BUCKET_MS, dayWindow, isoInZone, timeInZone } from '../../dates.js';
import { ALL_SITES, type DayKey, type LossWindow } from '../../domain.js';
import type { ParityRow } from '../columns.js';
import { esc, fmt } from './escape.js';

/** One day of the report as the strips read it: its rows, and its loss windows (windows-DAY.csv). */
export interface StripDay {
  day: DayKey;
  rows: readonly ParityRow[];
  /** The buckets that lost anything; [] when none did; null when the day has no windows file. */
  windows?: readonly LossWindow[] | null;
  /** Why the day's windows file, which is there, could not be read (then `windows` is null). */
  windowsError?: string;
}

/** A bucket's width on the page: 100 buckets (a fall-back day) fit the report's 1336 px beside a label. */
const BUCKET_PX = 10;
/** The hour labels under a strip: every third local hour. */
const TICK_EVERY_HOURS = 3;

/**
 * The colour bands of a bucket's missing share (missing ÷ accepted of the ids accepted in it), lowest
 * first: band 0 is a bucket that lost nothing (absent from windows-DAY.csv). `upTo` is inclusive.
 */
export const LOSS_BANDS = [
  { band: 0, upTo: 0, colour: '#e4e8ee', text: 'lost nothing' },
  { band: 1, upTo: 0.01, colour: '#fde4b8', text: 'up to 1 %' },
  { band: 2, upTo: 0.1, colour: '#f6b26b', text: 'over 1 %, up to 10 %' },
  { band: 3, upTo: 0.5, colour: '#e0664a', text: 'over 10 %, up to 50 %' },
  { band: 4, upTo: 1, colour: '#8e1b10', text: 'over 50 %' },
] as const;

/** The band of a bucket's missing share. Pure. */
export function lossBand(missing: number, accepted: number): number {
  if (missing <= 0 || accepted <= 0) return 0;
  const share = missing / accepted;
  return LOSS_BANDS.find((b) => b.band > 0 && share <= b.upTo)?.band ?? LOSS_BANDS.length - 1;
}

/** One bucket of one site's day. */
export interface StripBucket {
  startMs: number;
  endMs: number;
  /** The bucket's row of windows-DAY.csv; null: it lost nothing. */
  window: LossWindow | null;
  band: number;
}

/**
 * A site's day as quarter hours from its midnight to the next in `zone` (96 of them; 92, 94, 98 or 100 on a day the clock moves), each
 * with its loss window if it lost anything; windows outside the day are not shown. Pure.
 */
export function stripBuckets(day: DayKey, zone: string, windows: readonly LossWindow[]): StripBucket[] {
  const { startMs, endMs } = dayWindow(day, zone);
  const byStart = new Map(windows.map((w) => [w.startMs, w]));
  const out: StripBucket[] = [];
  for (let t = startMs; t < endMs; t += DAY_BUCKET_MS) {
    const window = byStart.get(t) ?? null;
    out.push({
      startMs: t,
      endMs: t + DAY_BUCKET_MS,
      window,
      band: window ? lossBand(window.missing, window.accepted) : 0,
    });
  }
  return out;
}

/** The window that lost most, the earliest of equals; null when none lost anything. Pure. */
export function worstWindow(windows: readonly LossWindow[]): LossWindow | null {
  return windows.reduce<LossWindow | null>(
    (w, x) =>
      x.missing > 0 && (w === null || x.missing > w.missing || (x.missing === w.missing && x.startMs < w.startMs))
        ? x
        : w,
    null,
  );
}

/**
 * The "Loss windows" section: per day, per site, a strip of the day's quarter hours coloured by
 * missing share, each bucket titled with its counts, and the site's worst window labelled (time
 * range, missing count, leading cause). Empty when no day carries windows (a caller that reads none).
 * `sites`: the report's sites in order (ALL left out here: windows are per site). Pure.
 */
export function renderLossStrips(
  days: readonly StripDay[],
  sites: readonly string[],
  zoneOf: (site: string) => string,
): string {
  return lossStripParts(days, sites, zoneOf).join('\n');
}

/** renderLossStrips' text as its lines of days (to be joined with newlines): one string each, never all at once. */
export function lossStripParts(
  days: readonly StripDay[],
  sites: readonly string[],
  zoneOf: (site: string) => string,
): string[] {
  if (days.every((d) => d.windows === undefined)) return [''];
  const legend = LOSS_BANDS.map(
    (b) => `<li><span class="q q${b.band}" aria-hidden="true"></span>${esc(b.text)}</li>`,
  ).join('');
  const body = days.map((d) => {
    const heading = `<figure class="strips" data-day="${esc(d.day)}">\n<figcaption>${esc(d.day)}</figcaption>`;
    if (!d.windows && d.windowsError !== undefined)
      return (
        `${heading}\n<p class="muted">The day's <code>windows-${esc(d.day)}.csv</code> could not be read: ` +
        `${esc(d.windowsError)}</p>\n</figure>`
      );
    if (!d.windows)
      return (
        `${heading}\n<p class="muted">No <code>windows-${esc(d.day)}.csv</code> for this day: its missing list ` +
        'was incomplete (a tier could not be read) or it was reported before loss windows were counted.</p>\n</figure>'
      );
    const windows = d.windows;
    const noData = new Set(d.rows.filter((r) => r.status === 'NO_DATA').map((r) => String(r.site)));
    const strips = stripSites(d, sites).map((site) =>
      renderStrip(d.day, site, zoneOf(site), windows, noData.has(site)),
    );
    return [heading, ...strips, '</figure>'].join('\n');
  });
  return [
    '<section class="loss-windows">',
    '<h2>Loss windows</h2>',
    CAPTION,
    `<ul class="legend strip-legend">${legend}</ul>`,
    ...body,
    '</section>',
  ];
}

/** The sites with a row or a window on the day, in report order (configured, then others). */
function stripSites(d: StripDay, sites: readonly string[]): string[] {
  const present = new Set<string>([...d.rows.map((r) => String(r.site)), ...(d.windows ?? []).map((w) => w.site)]);
  present.delete(ALL_SITES);
  const ordered = sites.filter((s) => present.has(s));
  return [...ordered, ...[...present].filter((s) => !ordered.includes(s)).sort()];
}

function renderStrip(day: DayKey, site: string, zone: string, all: readonly LossWindow[], noData = false): string {
  const windows = all.filter((w) => w.site === site);
  const buckets = stripBuckets(day, zone, windows);
  const { startMs, endMs } = dayWindow(day, zone);
  // On a DST day a wall-clock time can repeat: the offset tells the two apart.
  const shift = isoInZone(startMs, zone).slice(-6) !== isoInZone(endMs - 1, zone).slice(-6);
  const clock = (ms: number) =>
    shift ? `${timeInZone(ms, zone)} (${isoInZone(ms, zone).slice(-6)})` : timeInZone(ms, zone);
  const range = (b: { startMs: number; endMs: number }) => `${clock(b.startMs)}–${clock(b.endMs)}`;
  const shown = buckets.filter((b) => b.window).map((b) => b.window!);
  const worst = worstWindow(shown);
  const lossy = shown.filter((w) => w.missing > 0).length;
  const cells = buckets.map((b) => {
    const w = b.window;
    const what = w ? `${countsText(w)}, cause ${w.leadingCause}` : 'nothing lost';
    const tip = `${site} ${day} ${range(b)}: ${what}`;
    const cls = `q q${b.band}${w && w === worst ? ' worst' : ''}`;
    const attrs = `role="img" title="${esc(tip)}" aria-label="${esc(tip)}" data-start="${b.startMs}"`;
    return `<span class="${cls}" ${attrs}></span>`;
  });
  const ticks = buckets.flatMap((b, i) => {
    const [hh, mm] = timeInZone(b.startMs, zone).split(':').map(Number) as [number, number];
    return mm === 0 && hh % TICK_EVERY_HOURS === 0
      ? [`<span style="left:${i * BUCKET_PX}px">${String(hh).padStart(2, '0')}</span>`]
      : [];
  });
  // Windows of a report cut in another zone can fall outside this day: said, never dropped silently.
  const outside = windows.filter((w) => w.startMs < startMs || w.startMs >= endMs).reduce((n, w) => n + w.missing, 0);
  const beyond = outside > 0 ? ` ${outside} missing in quarter hours outside this day in ${esc(zone)}.` : '';
  const label = worst
    ? `Worst <b>${esc(range({ startMs: worst.startMs, endMs: worst.startMs + DAY_BUCKET_MS }))}</b>: ` +
      `${esc(countsText(worst))}, cause <code>${esc(worst.leadingCause)}</code>${beyond ? `.${beyond}` : ''}`
    : noData
      ? 'No data (NO_DATA): nothing was there to lose, which is no sign of health.'
      : outside > 0
        ? `Nothing lost in this day's quarter hours;${beyond}`
        : 'Lost nothing in any quarter hour.';
  const summary = `${site} ${day} (${zone}): ${lossy} of ${buckets.length} quarter hours lost ids`;
  const width = buckets.length * BUCKET_PX;
  return [
    `<div class="strip" data-site="${esc(site)}" data-day="${esc(day)}" data-buckets="${buckets.length}">`,
    `<div class="strip-site"><span class="site">${esc(site)}</span>` +
      `<span class="muted">${esc(zone)} · ${buckets.length}</span></div>`,
    '<div class="strip-scroll">',
    `<div class="buckets" role="group" aria-label="${esc(summary)}" style="width:${width}px">${cells.join('')}</div>`,
    `<div class="hours" aria-hidden="true" style="width:${width}px">${ticks.join('')}</div>`,
    '</div>',
    `<p class="worst-label">${label}</p>`,
    '</div>',
  ].join('\n');
}

/** `15 missing of 20 accepted (75.0 %)` */
function countsText(w: LossWindow): string {
  return `${fmt(w.missing)} missing of ${fmt(w.accepted)} accepted (${shareText(w.missing, w.accepted)})`;
}

const CAPTION =
  '<p class="caption">Each site\'s day in quarter hours, from its midnight to the next in the site\'s zone ' +
  "(96; 92 or 100 on DST days, 94 or 98 where the clock moves half an hour), from <code>windows-DATE.csv</code>. A bucket's colour is its missing " +
  'share: the ids accepted in it (by their first accepted proxy line) that the final tier lacks, ÷ the ids ' +
  'accepted in it; a bucket the file does not list lost nothing. Hover a bucket for its counts and leading cause; ' +
  'the worst window of each strip (most missing ids, the earliest of equals) is outlined and labelled beside it.</p>';

/** A missing share as a percentage: one decimal, two under 1 %, never rounded to 0 or 100 when it is not. */
function shareText(missing: number, accepted: number): string {
  if (missing >= accepted) return '100 %';
  const p = (100 * missing) / accepted;
  const text = p < 1 ? p.toFixed(2) : p.toFixed(1);
  if (Number(text) === 0) return '< 0.01 %';
  if (Number(text) >= 100) return '> 99.9 %';
  return `${text} %`;
}

export const STRIP_CSS = `
.strip-legend .q{display:inline-block;width:14px;height:14px;border:1px solid #c9ced6}
figure.strips{margin:0 0 10px;background:#fff;border:1px solid var(--line);border-radius:6px;padding:6px 10px}
figure.strips figcaption{font-size:14px;font-weight:700;margin-bottom:2px}
.strip{display:grid;grid-template-columns:88px auto minmax(160px,1fr);gap:0 12px;align-items:start;
padding:4px 0 2px;border-top:1px solid #eceef2}
.strip-site{display:flex;flex-direction:column;line-height:1.2}
.strip-site .site{font-weight:700;font-size:14px}.strip-site .muted{font-size:10.5px}
.strip-scroll{overflow-x:auto;overflow-y:hidden}
.buckets{display:flex;height:20px}
.buckets .q{flex:0 0 ${BUCKET_PX}px;height:20px;border-right:1px solid #fff;cursor:help}
.buckets .q.worst{outline:2px solid #1d2330;outline-offset:-1px}
.hours{position:relative;height:13px;font-size:10px;line-height:12px;color:#6b7280}
.hours span{position:absolute;top:0}
.worst-label{margin:0;font-size:12px;line-height:1.35;color:#3a4250}
${LOSS_BANDS.map((b) => `.q${b.band}{background:${b.colour}}`).join('\n')}
`.trim();
