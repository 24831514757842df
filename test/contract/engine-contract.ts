/**
 * The one CountingEngine contract: every engine (embedded DuckDB, BigQuery) is given the same small
 * fixture through the engine interface — the proxy and the final tier as tables, Kafka's messages
 * streamed in — and must give the same counts, the same id facts and the same missing ids. What
 * each id should be is written down beside it ({@link FIXTURE_IDS}); the expected groups and
 * counts are derived from those lines, never copied from an engine's output. A test file only says
 * how to make the engine and serve the fixture's tables to it (see {@link MakeEngine}).
 */
import { dayWindow } from '../../src/dates.js';
import { daySpan } from '../../src/site-zones.js';
import type {
  BigqueryRangeReader,
  DayKey,
  IdFactGroup,
  IdFacts,
  RejectClass,
  Site,
  StreamedRow,
} from '../../src/domain.js';
import type { CountingEngine, MissingId } from '../../src/engine/engine.js';
import { WINDOW_MS } from '../../src/engine/loss-windows.js';
import { lossCause } from '../../src/reconcile/rules.js';
import { idFacts } from '../support/builders.js';

export const DAY: DayKey = '2025-03-09';
export const ZONE = 'UTC';
export const SITES: Site[] = ['US', 'CA'];
/** A client's request id: quotes, `=`, `+`, markup and a newline must come back as they went in. */
const HOSTILE = 'h="1"+<script>\nx';

const at = (hhmmss: string, day: string = DAY) => Date.parse(`${day}T${hhmmss}Z`);

export interface ProxyLine {
  ts: number;
  requestId: string;
  site: string | null;
  status: number;
}
export interface KafkaLine {
  region: string;
  ts: number;
  requestId: string;
  site: string | null;
  inFlight: boolean;
}
/** Kafka lines as the engine takes them from a reader: one streamed row each. */
function streamedRows(lines: readonly KafkaLine[]) {
  return lines.map((k) => ({
    region: k.region,
    timestampMs: k.ts,
    requestId: k.requestId,
    siteHeader: k.site,
    inFlight: k.inFlight,
    n: 1,
  }));
}
export interface FinalLine {
  ts: number;
  requestId: string;
  site: string | null;
}

/** The proxy's access log: one line each. */
export const PROXY: readonly ProxyLine[] = [
  { ts: at('10:00:00'), requestId: 'a-1', site: 'US', status: 200 },
  { ts: at('10:00:30'), requestId: 'a-1', site: 'us ', status: 200 },
  { ts: at('10:01:00'), requestId: 'a-2', site: 'US', status: 200 },
  { ts: at('10:02:00'), requestId: 'a-3', site: 'US', status: 413 },
  { ts: at('10:03:00'), requestId: 'c-1', site: 'CA', status: 200 },
  { ts: at('10:04:00'), requestId: 'c-2', site: 'CA', status: 502 },
  { ts: at('10:05:00'), requestId: HOSTILE, site: 'US', status: 200 },
  { ts: at('10:06:00'), requestId: 'z-1', site: 'MX', status: 200 },
  // The header sent empty, not sent, and blank: none in an access log, which cannot tell them apart.
  { ts: at('10:07:00'), requestId: 'e-1', site: '', status: 200 },
  { ts: at('10:08:00'), requestId: 'e-2', site: null, status: 200 },
  { ts: at('10:09:00'), requestId: 'e-3', site: '  ', status: 200 },
  // Only the accepted copies' headers route: a 502 under a site no filter keeps, retried with none; the
  // same id accepted twice, under such a site and with none (every filter keeps that copy): no cause.
  { ts: at('10:10:00'), requestId: 'u-1', site: 'MX', status: 502 },
  { ts: at('10:10:05'), requestId: 'u-1', site: null, status: 200 },
  { ts: at('10:11:00'), requestId: 'u-2', site: 'MX', status: 200 },
  { ts: at('10:11:05'), requestId: 'u-2', site: null, status: 200 },
  { ts: at('10:12:00'), requestId: 'u-3', site: null, status: 200 },
  // Logged under a site no filter keeps, published without the header (below): Kafka's copy is what the
  // sink filters saw, and the US filter kept it.
  { ts: at('10:13:00'), requestId: 'u-4', site: 'MX', status: 200 },
  // No header anywhere it was published; landed with a site field no filter keeps: landed, not unroutable.
  { ts: at('10:14:00'), requestId: 'u-5', site: null, status: 200 },
  // The day before: outside the window, counted nowhere.
  { ts: at('23:59:59', '2025-03-08'), requestId: 'x-0', site: 'US', status: 200 },
];

/** Kafka's messages in two regional clusters. */
export const KAFKA: readonly KafkaLine[] = [
  { region: 'EUS2', ts: at('10:00:01'), requestId: 'a-1', site: 'US', inFlight: false },
  { region: 'SCUS', ts: at('10:00:02'), requestId: 'a-1', site: 'US', inFlight: false },
  { region: 'EUS2', ts: at('10:01:01'), requestId: 'a-2', site: 'US', inFlight: false },
  { region: 'EUS2', ts: at('10:03:01'), requestId: 'c-1', site: 'CA', inFlight: false },
  { region: 'SCUS', ts: at('10:05:01'), requestId: HOSTILE, site: 'US', inFlight: true },
  // In Kafka a header is sent or not: sent empty or blank it names no site, and every sink filter drops it.
  { region: 'EUS2', ts: at('10:07:01'), requestId: 'e-1', site: '', inFlight: false },
  { region: 'EUS2', ts: at('10:08:01'), requestId: 'e-2', site: null, inFlight: false },
  { region: 'SCUS', ts: at('10:09:01'), requestId: 'e-3', site: ' ', inFlight: false },
  // Two copies, one sent empty and one without the header: the US filter keeps the second, so no cause.
  { region: 'EUS2', ts: at('10:12:01'), requestId: 'u-3', site: '', inFlight: false },
  { region: 'SCUS', ts: at('10:12:02'), requestId: 'u-3', site: null, inFlight: false },
  { region: 'EUS2', ts: at('10:13:01'), requestId: 'u-4', site: null, inFlight: false },
  { region: 'EUS2', ts: at('10:14:01'), requestId: 'u-5', site: null, inFlight: false },
];

/** The final tier (BigQuery's landed table). */
export const FINAL: readonly FinalLine[] = [
  { ts: at('10:00:05'), requestId: 'a-1', site: 'US' },
  { ts: at('10:03:05'), requestId: 'c-1', site: 'CA' },
  { ts: at('10:14:05'), requestId: 'u-5', site: 'MX' },
];

const none: IdFacts = idFacts({ inProxy: true, kafkaKnown: true });
const accepted = { ...none, accepted: true };
const rejected = (lastReject: RejectClass) => ({ ...none, rejected: true, lastReject });

/** What each request id of the day is, read off the lines above by hand. */
export const FIXTURE_IDS: readonly { site: Site; requestId: string; facts: IdFacts }[] = [
  // Two accepted lines ("us " is US), in both clusters, landed.
  {
    site: 'US',
    requestId: 'a-1',
    facts: { ...accepted, inKafka: true, crossRegion: true, inBigquery: true, inFinal: true },
  },
  // Accepted, in Kafka, never landed: missing.
  { site: 'US', requestId: 'a-2', facts: { ...accepted, inKafka: true } },
  { site: 'US', requestId: 'a-3', facts: rejected('413') },
  { site: 'CA', requestId: 'c-1', facts: { ...accepted, inKafka: true, inBigquery: true, inFinal: true } },
  { site: 'CA', requestId: 'c-2', facts: rejected('502') },
  // Accepted, published but past the sink's offset, never landed: missing.
  { site: 'US', requestId: HOSTILE, facts: { ...accepted, inKafka: true, inFlight: true } },
  // A site header naming no configured site: UNKNOWN, unroutable, missing.
  { site: 'UNKNOWN', requestId: 'z-1', facts: { ...accepted, unroutable: true } },
  // Kafka's header sent empty or blank: unroutable; not sent: the US filter keeps it, so no cause but loss.
  { site: 'UNKNOWN', requestId: 'e-1', facts: { ...accepted, inKafka: true, unroutable: true } },
  { site: 'UNKNOWN', requestId: 'e-2', facts: { ...accepted, inKafka: true } },
  { site: 'UNKNOWN', requestId: 'e-3', facts: { ...accepted, inKafka: true, unroutable: true } },
  // A copy some filter keeps should have landed: no cause but loss.
  { site: 'UNKNOWN', requestId: 'u-1', facts: { ...accepted, rejected: true } },
  { site: 'UNKNOWN', requestId: 'u-2', facts: accepted },
  { site: 'UNKNOWN', requestId: 'u-3', facts: { ...accepted, inKafka: true, crossRegion: true } },
  { site: 'UNKNOWN', requestId: 'u-4', facts: { ...accepted, inKafka: true } },
  { site: 'UNKNOWN', requestId: 'u-5', facts: { ...accepted, inKafka: true, inBigquery: true, inFinal: true } },
];

/**
 * Each site's business day: a July batch where US's day is Chicago's (CDT, -05:00) and MX's Mexico
 * City's (-06:00 all year since 2022); CA, UNKNOWN and unconfigured sites keep the configured zone
 * (ZONE, UTC). Each line says by hand which report day it counts for in its site's zone (null: a day
 * outside the batch, counted nowhere). Its ids are its own, so the fixture above is untouched.
 */
export const ZONED = {
  days: ['2025-07-15', '2025-07-16'] as DayKey[],
  zoning: { timezone: ZONE, siteZones: { US: 'America/Chicago', MX: 'America/Mexico_City' } },
  sites: ['US', 'CA', 'MX'] as Site[],
};
type Zoned<T> = T & { day: DayKey | null };
const z = (hhmmss: string, day: string) => Date.parse(`${day}T${hhmmss}Z`);

export const ZONED_PROXY: readonly Zoned<ProxyLine>[] = [
  // 23:30 on the 15th in Mexico City, already 00:30 on the 16th in Chicago.
  { ts: z('05:30:00', '2025-07-16'), requestId: 'zmx-late', site: 'MX', status: 200, day: '2025-07-15' },
  { ts: z('05:30:00', '2025-07-16'), requestId: 'zus-early', site: 'US', status: 200, day: '2025-07-16' },
  { ts: z('05:30:00', '2025-07-16'), requestId: 'zca-utc', site: 'CA', status: 200, day: '2025-07-16' },
  // 23:30 on the 14th in Chicago, 23:45 on the 14th in Mexico City: before the batch.
  { ts: z('04:30:00', '2025-07-15'), requestId: 'zus-before', site: 'US', status: 200, day: null },
  { ts: z('05:45:00', '2025-07-15'), requestId: 'zmx-before', site: 'mx', status: 200, day: null },
  // 00:10 UTC on the 15th: CA's day (UTC), the 14th in Chicago.
  { ts: z('00:10:00', '2025-07-15'), requestId: 'zca-first', site: 'CA', status: 200, day: '2025-07-15' },
  { ts: z('00:10:00', '2025-07-15'), requestId: 'zus-14th', site: 'US', status: 413, day: null },
  // A site no one configured: UNKNOWN, in the configured zone (the 15th in UTC, the 16th nowhere).
  { ts: z('23:30:00', '2025-07-15'), requestId: 'zbr', site: 'BR', status: 200, day: '2025-07-15' },
  // 23:00 on the 16th in Mexico City, 23:59 on the 16th in Chicago: both days' last hours, after UTC's.
  { ts: z('05:00:00', '2025-07-17'), requestId: 'zmx-last', site: 'MX', status: 200, day: '2025-07-16' },
  { ts: z('04:59:00', '2025-07-17'), requestId: 'zus-last', site: 'US', status: 502, day: '2025-07-16' },
  { ts: z('04:59:30', '2025-07-17'), requestId: 'zus-last', site: 'US', status: 200, day: '2025-07-16' },
];
export const ZONED_KAFKA: readonly Zoned<KafkaLine>[] = [
  {
    region: 'EUS2',
    ts: z('05:30:01', '2025-07-16'),
    requestId: 'zmx-late',
    site: 'MX',
    inFlight: false,
    day: '2025-07-15',
  },
  {
    region: 'EUS2',
    ts: z('05:30:01', '2025-07-16'),
    requestId: 'zus-early',
    site: 'US',
    inFlight: false,
    day: '2025-07-16',
  },
  {
    region: 'SCUS',
    ts: z('05:00:01', '2025-07-17'),
    requestId: 'zmx-last',
    site: 'MX',
    inFlight: false,
    day: '2025-07-16',
  },
];
export const ZONED_FINAL: readonly Zoned<FinalLine>[] = [
  { ts: z('05:30:02', '2025-07-16'), requestId: 'zmx-late', site: 'MX', day: '2025-07-15' },
  { ts: z('00:10:02', '2025-07-15'), requestId: 'zca-first', site: 'CA', day: '2025-07-15' },
  { ts: z('05:00:02', '2025-07-17'), requestId: 'zmx-last', site: 'MX', day: '2025-07-16' },
];

/** The fixture's table tiers as rows an embedded engine streams in (one row per line, n = 1). */
export function proxyRows(): StreamedRow[] {
  return [...PROXY, ...ZONED_PROXY].map((l) => ({ ...tableRow(l), status: l.status }));
}
export function finalRows(): StreamedRow[] {
  return [...FINAL, ...ZONED_FINAL].map(tableRow);
}
/** A table tier's line as a streamed row: no region, never in flight. */
function tableRow(l: FinalLine): StreamedRow {
  return { region: null, timestampMs: l.ts, requestId: l.requestId, siteHeader: l.site, inFlight: false, n: 1 };
}

/** An engine and readers of the fixture's two tables (PROXY and FINAL) in the engine's medium. */
export interface EngineUnderTest {
  engine: CountingEngine;
  proxy: BigqueryRangeReader;
  final: BigqueryRangeReader;
  close(): Promise<void>;
}

export type MakeEngine = () => Promise<EngineUnderTest>;

const countKey = (r: { day: string; site: string; region?: string }) => `${r.day}|${r.site}|${r.region ?? ''}`;

/** Registers the contract's tests for one engine. `timeoutMs` covers starting an emulator and loading. */
export function engineContract(name: string, makeEngine: MakeEngine, timeoutMs = 60_000): void {
  describe(`CountingEngine contract: ${name}`, () => {
    let e: EngineUnderTest;

    beforeAll(async () => {
      e = await makeEngine();
      const { engine } = e;
      const window = dayWindow(DAY, ZONE);
      // The order a run loads a batch in (jobs/reconcile.ts).
      await engine.setWindows([window]);
      await engine.loadTable('proxy', e.proxy, window.startMs, window.endMs, SITES);
      await engine.files?.loadEmpty('gcs');
      await engine.beginStreamed('kafka');
      const kafka = streamedRows(KAFKA);
      // In two appends, as a reader hands batches over.
      await engine.appendStreamed('kafka', kafka.slice(0, 2));
      await engine.appendStreamed('kafka', kafka.slice(2));
      await engine.finishStreamed('kafka', SITES);
      await engine.loadTable('bigquery', e.final, window.startMs, window.endMs, SITES);
      await engine.joinIds([DAY], true);
    }, timeoutMs);
    afterAll(async () => {
      await e?.engine.close();
      await e?.close();
    });

    it('offers the file tiers whole or not at all: no method that could only throw or answer nothing', () => {
      const files = e.engine.files;
      const methods = ['loadFiles', 'loadEmpty', 'landedCounts', 'lineIssues'] as const;
      if (files) expect(methods.filter((m) => typeof files[m] !== 'function')).toEqual([]);
      else expect(['loadFiles', 'landedCounts'].filter((m) => m in e.engine)).toEqual([]);
    });

    it("counts the proxy's lines of the day per site: accepted, 413 and 502", async () => {
      const rows = await e.engine.proxyCounts();
      const expected = new Map<string, { lines: number; accepted: number; rejected413: number; rejected502: number }>();
      for (const id of FIXTURE_IDS) {
        const lines = PROXY.filter((l) => l.requestId === id.requestId);
        const c = expected.get(id.site) ?? { lines: 0, accepted: 0, rejected413: 0, rejected502: 0 };
        c.lines += lines.length;
        c.accepted += lines.filter((l) => l.status >= 200 && l.status < 300).length;
        c.rejected413 += lines.filter((l) => l.status === 413).length;
        c.rejected502 += lines.filter((l) => l.status === 502).length;
        expected.set(id.site, c);
      }
      expect(new Map(rows.map((r) => [countKey(r), r.counts]))).toEqual(
        new Map([...expected].map(([site, counts]) => [countKey({ day: DAY, site }), counts])),
      );
    });

    it('finds no malformed or out-of-window proxy line in well-formed rows of the day', async () => {
      const issues = await e.engine.lineIssues('proxy');
      expect(issues.filter((r) => r.counts.malformed + r.counts.outOfWindow > 0)).toEqual([]);
    });

    it("counts Kafka's records per site and cluster, each id once per cluster", async () => {
      const rows = await e.engine.streamedCounts('kafka');
      const expected = new Map<string, { n: number; ids: Set<string> }>();
      for (const k of KAFKA) {
        const site = FIXTURE_IDS.find((i) => i.requestId === k.requestId)!.site;
        const key = countKey({ day: DAY, site, region: k.region });
        const c = expected.get(key) ?? { n: 0, ids: new Set() };
        c.n++;
        c.ids.add(k.requestId);
        expected.set(key, c);
      }
      expect(new Map(rows.map((r) => [countKey(r), { kind: r.kind, n: r.n, distinct: r.distinct }]))).toEqual(
        new Map([...expected].map(([key, c]) => [key, { kind: 'record', n: c.n, distinct: c.ids.size }])),
      );
    });

    it("counts the final tier's records per site, with no region", async () => {
      const rows = await e.engine.streamedCounts('bigquery');
      const expected = new Map<string, { kind: string; n: number; distinct: number }>();
      for (const f of FINAL) {
        // A site no filter keeps counts as UNKNOWN.
        const key = countKey({ day: DAY, site: SITES.includes(f.site!) ? f.site! : 'UNKNOWN' });
        const c = expected.get(key) ?? { kind: 'record', n: 0, distinct: 0 };
        c.n++;
        c.distinct++;
        expected.set(key, c);
      }
      expect(new Map(rows.map((r) => [countKey(r), { kind: r.kind, n: r.n, distinct: r.distinct }]))).toEqual(expected);
    });

    it('groups the ids by day, site and facts exactly as the fixture says each id is', async () => {
      const groups = await e.engine.idFacts();
      const expected = new Map<string, IdFactGroup>();
      for (const id of FIXTURE_IDS) {
        const key = JSON.stringify([DAY, id.site, id.facts]);
        const g = expected.get(key) ?? { day: DAY, site: id.site, ...id.facts, ids: 0 };
        g.ids++;
        expected.set(key, g);
      }
      const sort = (gs: IdFactGroup[]) => gs.map((g) => JSON.stringify(g)).sort();
      expect(sort(groups)).toEqual(sort([...expected.values()]));
    });

    it('lists the accepted ids the final tier lacks, configured sites first then UNKNOWN, each by id', async () => {
      const missing: MissingId[] = [];
      for await (const chunk of e.engine.missingIds(DAY, SITES)) missing.push(...chunk);
      const order = (site: Site) => (SITES.includes(site) ? SITES.indexOf(site) : SITES.length);
      const expected = FIXTURE_IDS.filter((i) => i.facts.accepted && !i.facts.inFinal).sort(
        (a, b) => order(a.site) - order(b.site) || (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0),
      );
      expect(
        missing.map((m) => ({
          site: m.site,
          requestId: m.requestId,
          unroutable: m.facts.unroutable,
          kafkaKnown: m.facts.kafkaKnown,
          inKafka: m.facts.inKafka,
          inFlight: m.facts.inFlight,
          inGcs: m.facts.inGcs,
        })),
      ).toEqual(
        expected.map((i) => ({
          site: i.site,
          requestId: i.requestId,
          unroutable: i.facts.unroutable,
          kafkaKnown: i.facts.kafkaKnown,
          inKafka: i.facts.inKafka,
          inFlight: i.facts.inFlight,
          inGcs: i.facts.inGcs,
        })),
      );
    });

    it('gives each missing id the instant of its earliest accepted proxy line', async () => {
      const missing: MissingId[] = [];
      for await (const chunk of e.engine.missingIds(DAY, SITES)) missing.push(...chunk);
      const acceptedAt = (rid: string) =>
        Math.min(...PROXY.filter((l) => l.requestId === rid && l.status >= 200 && l.status < 300).map((l) => l.ts));
      expect(missing.length).toBeGreaterThan(0);
      expect(missing.map((m) => [m.requestId, m.acceptedMs])).toEqual(
        missing.map((m) => [m.requestId, acceptedAt(m.requestId)]),
      );
    });

    it('counts the loss windows of the day where the engine offers them, as the fixture says', async () => {
      const windows = e.engine.windows;
      if (!windows) {
        expect('windows' in e.engine).toBe(false);
        return;
      }
      const got = await windows.lossWindows(DAY, SITES);
      const accepted = FIXTURE_IDS.filter((i) => i.facts.accepted);
      const startOf = (rid: string) =>
        Math.floor(
          Math.min(...PROXY.filter((l) => l.requestId === rid && l.status < 300).map((l) => l.ts)) / WINDOW_MS,
        ) * WINDOW_MS;
      const keyOf = (site: string, start: number) => `${site} ${start}`;
      const expected = new Map<string, { accepted: number; landed: number; causes: string[] }>();
      for (const i of accepted) {
        const k = keyOf(i.site, startOf(i.requestId));
        const w = expected.get(k) ?? { accepted: 0, landed: 0, causes: [] };
        w.accepted += 1;
        if (i.facts.inFinal) w.landed += 1;
        else w.causes.push(lossCause(i.facts));
        expected.set(k, w);
      }
      const lost = [...expected].filter(([, w]) => w.accepted > w.landed);
      expect(new Map(got.map((w) => [keyOf(w.site, w.startMs), [w.accepted, w.landed, w.missing]]))).toEqual(
        new Map(lost.map(([k, w]) => [k, [w.accepted, w.landed, w.accepted - w.landed]])),
      );
      for (const w of got) {
        const causes = expected.get(keyOf(w.site, w.startMs))!.causes;
        expect(causes.filter((c) => c === w.leadingCause).length).toBe(
          Math.max(...causes.map((c) => causes.filter((x) => x === c).length)),
        );
      }
    });

    it('lists no missing id for a day outside the batch', async () => {
      const missing: MissingId[] = [];
      for await (const chunk of e.engine.missingIds('2025-03-08', SITES)) missing.push(...chunk);
      expect(missing).toEqual([]);
    });

    describe("each site's business day (sites with zones of their own)", () => {
      const siteOf = (header: string | null) => {
        const code = (header ?? '').trim().toUpperCase();
        return ZONED.sites.includes(code) ? code : 'UNKNOWN';
      };
      const counted = <T extends { day: DayKey | null }>(lines: readonly T[]) =>
        lines.filter((l): l is T & { day: DayKey } => l.day !== null);

      beforeAll(async () => {
        const { engine } = e;
        const windows = ZONED.days.map((d) => dayWindow(d, ZONE));
        const [first, last] = [daySpan(ZONED.days[0]!, ZONED.zoning), daySpan(ZONED.days.at(-1)!, ZONED.zoning)];
        await engine.setWindows(windows, ZONED.zoning);
        await engine.loadTable('proxy', e.proxy, first.startMs, last.endMs, ZONED.sites);
        await engine.files?.loadEmpty('gcs');
        await engine.beginStreamed('kafka');
        await engine.appendStreamed('kafka', streamedRows(ZONED_KAFKA));
        await engine.finishStreamed('kafka', ZONED.sites);
        await engine.loadTable('bigquery', e.final, first.startMs, last.endMs, ZONED.sites);
        await engine.joinIds(ZONED.days, true);
      }, timeoutMs);

      it("counts each proxy line for its site's day in its site's zone", async () => {
        const expected = new Map<
          string,
          { lines: number; accepted: number; rejected413: number; rejected502: number }
        >();
        for (const l of counted(ZONED_PROXY)) {
          const key = countKey({ day: l.day, site: siteOf(l.site) });
          const c = expected.get(key) ?? { lines: 0, accepted: 0, rejected413: 0, rejected502: 0 };
          c.lines++;
          if (l.status >= 200 && l.status < 300) c.accepted++;
          if (l.status === 413) c.rejected413++;
          if (l.status === 502) c.rejected502++;
          expected.set(key, c);
        }
        const rows = await e.engine.proxyCounts();
        expect(new Map(rows.map((r) => [countKey(r), r.counts]))).toEqual(expected);
      });

      it("counts Kafka's and the final tier's records for their site's day", async () => {
        const tally = (lines: readonly { day: DayKey; site: string | null; region?: string }[]) => {
          const m = new Map<string, number>();
          for (const l of lines) {
            const key = countKey({ day: l.day, site: siteOf(l.site), region: l.region ?? '' });
            m.set(key, (m.get(key) ?? 0) + 1);
          }
          return m;
        };
        const kafka = await e.engine.streamedCounts('kafka');
        expect(new Map(kafka.map((r) => [countKey(r), r.n]))).toEqual(tally(counted(ZONED_KAFKA)));
        const final = await e.engine.streamedCounts('bigquery');
        expect(new Map(final.map((r) => [countKey(r), r.n]))).toEqual(tally(counted(ZONED_FINAL)));
      });

      it('lists each day’s missing ids by their site’s day, with the accepted instant', async () => {
        for (const day of ZONED.days) {
          const missing: MissingId[] = [];
          for await (const chunk of e.engine.missingIds(day, ZONED.sites)) missing.push(...chunk);
          const landed = new Set(ZONED_FINAL.map((f) => f.requestId));
          const accepted = counted(ZONED_PROXY).filter((l) => l.day === day && l.status < 300);
          const expected = accepted
            .filter((l) => !landed.has(l.requestId))
            .map((l) => [siteOf(l.site), l.requestId, l.ts])
            .sort(([a, ra], [b, rb]) => {
              const order = (s: unknown) => (ZONED.sites.includes(String(s)) ? ZONED.sites.indexOf(String(s)) : 9);
              return order(a) - order(b) || String(ra).localeCompare(String(rb));
            });
          expect(missing.map((m) => [m.site, m.requestId, m.acceptedMs])).toEqual(expected);
        }
      });
    });
  });
}

/**
 * A table of the fixture served from memory, as a BigQuery reader hands it over: the rows in [startMs, endMs),
 * and those without a timestamp whose partition is dated on one of the read's days.
 */
export function memoryTable(rows: readonly StreamedRow[]): BigqueryRangeReader {
  return {
    async readRange(startMs, endMs, untimedDays, onBatch) {
      const inRange = rows.filter((r) =>
        r.timestampMs === null
          ? untimedDays.includes(r.untimedDay!)
          : r.timestampMs >= startMs && r.timestampMs < endMs,
      );
      await onBatch(inRange);
      return { bytesProcessed: null, rows: inRange.length };
    },
  };
}
