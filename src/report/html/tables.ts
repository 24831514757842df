/** The HTML report's tables: every column of every day's rows, in three groups, and the columns' definitions. */
import { ALL_SITES, UNKNOWN_SITE } from '../../domain.js';
import { PARITY_COLUMNS, type ParityColumn, type ParityRow, regionColumn } from '../columns.js';
import { esc, fmt } from './escape.js';
import { badge, breakable, type Ctx, STATUS_MEANS, STATUSES, TIER_OF } from './parts.js';

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

/** The day-by-day tables, as parts to be joined with newlines, a day each: never the whole range as one string. */
export function tableParts(ctx: Ctx): string[] {
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
  ];
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
  if (c === 'parity_pct')
    return r.status === 'NO_DATA'
      ? `empty: no data — ${r.status_reason ? String(r.status_reason) : 'nothing to compare'}`
      : 'empty: no id was accepted, so parity is undefined';
  if (tier === 'kafka') return 'empty: Kafka could not be counted for this day (retention expired or not read)';
  return 'empty: not counted for this row';
}

export function renderDefinitions(ctx: Ctx): string {
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
