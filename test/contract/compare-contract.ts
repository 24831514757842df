/**
 * The `compare` contract: every engine that compares payloads is given the same Kafka messages and
 * final-tier records through the engine interface and must list the same ids with the same differing
 * fields. What each id should give is written beside it ({@link COMPARE_IDS}); the expectation is
 * derived from those lines, never copied from an engine's output.
 */
import { dayWindow } from '../../src/dates.js';
import type { BigqueryRangeReader, DayKey, Site, StreamedRow, TimedStreamedRow } from '../../src/domain.js';
import type { ContentMismatch } from '../../src/engine/compare.js';
import type { CountingEngine } from '../../src/engine/engine.js';

export const DAY: DayKey = '2025-03-09';
export const ZONE = 'UTC';
export const SITES: Site[] = ['US', 'CA'];
/** Compared in this order: mismatch-DAY.csv names the fields in it. */
export const COMPARE = ['body.amount', 'user.id', 'body.note'];
/** A client's request id: quotes, `=`, `+`, markup and a newline must come back as they went in. */
export const HOSTILE = '=h"1"+<script>\nx';

const at = (hhmmss: string) => Date.parse(`${DAY}T${hhmmss}Z`);
const LONG_NOTE = 'a note long enough that a gateway limit cuts it: ' + 'x'.repeat(200);

/** A record's compared content: the same shape in Kafka's JSON value and in the final tier. */
export interface Payload {
  body?: { amount?: string | number | null; note?: string };
  user?: { id?: string };
}
const FULL: Payload = { body: { amount: '10.00', note: LONG_NOTE }, user: { id: 'u-1' } };

interface CompareCase {
  requestId: string;
  site: Site;
  /** Kafka's messages (one per entry: a region and its value, or raw text that is not JSON). */
  kafka: { region: string; value: Payload | string }[];
  /** The final tier's records. */
  final: Payload[];
  /** The fields that must be reported as differing, in COMPARE order; empty: no mismatch. */
  differs: string[];
}

export const COMPARE_IDS: readonly CompareCase[] = [
  // Equal payloads: nothing to report.
  { requestId: 'same-1', site: 'US', kafka: [{ region: 'EUS2', value: FULL }], final: [FULL], differs: [] },
  // Duplicates on both sides with equal payloads (a cross-region copy, a sink retry): no mismatch.
  {
    requestId: 'dup-1',
    site: 'US',
    kafka: [
      { region: 'EUS2', value: FULL },
      { region: 'SCUS', value: FULL },
    ],
    final: [FULL, FULL],
    differs: [],
  },
  // A field cut short on the way (a gateway's size limit).
  {
    requestId: 'trunc-1',
    site: 'US',
    kafka: [{ region: 'EUS2', value: FULL }],
    final: [{ ...FULL, body: { ...FULL.body, note: LONG_NOTE.slice(0, 40) } }],
    differs: ['body.note'],
  },
  // A field a sink rewrote.
  {
    requestId: 'rewrite-1',
    site: 'CA',
    kafka: [{ region: 'EUS2', value: FULL }],
    final: [{ ...FULL, user: { id: 'U-1' } }],
    differs: ['user.id'],
  },
  // A field dropped on the way: a value against none.
  {
    requestId: 'drop-1',
    site: 'US',
    kafka: [{ region: 'EUS2', value: FULL }],
    final: [{ ...FULL, body: { note: LONG_NOTE } }],
    differs: ['body.amount'],
  },
  // Two fields changed: named in COMPARE order, whatever order they changed in.
  {
    requestId: 'multi-1',
    site: 'US',
    kafka: [{ region: 'SCUS', value: FULL }],
    final: [{ body: { amount: '11.00', note: LONG_NOTE }, user: { id: 'u-2' } }],
    differs: ['body.amount', 'user.id'],
  },
  // A duplicate with a different payload: the final tier holds two versions, Kafka one.
  {
    requestId: 'dup-2',
    site: 'CA',
    kafka: [{ region: 'EUS2', value: FULL }],
    final: [FULL, { ...FULL, user: { id: 'u-9' } }],
    differs: ['user.id'],
  },
  // JSON null and an absent field are the same "no value" (a BigQuery column cannot tell them apart).
  {
    requestId: 'null-1',
    site: 'US',
    kafka: [{ region: 'EUS2', value: { ...FULL, body: { amount: null, note: LONG_NOTE } } }],
    final: [{ ...FULL, body: { note: LONG_NOTE } }],
    differs: [],
  },
  // Values compare as text: a number and the same digits as a string are equal.
  {
    requestId: 'num-1',
    site: 'US',
    kafka: [{ region: 'EUS2', value: { ...FULL, body: { amount: 5, note: LONG_NOTE } } }],
    final: [{ ...FULL, body: { amount: '5', note: LONG_NOTE } }],
    differs: [],
  },
  // An integer written into a FLOAT column comes back as the engine renders a double (10.0): the same value.
  {
    requestId: 'num-2',
    site: 'US',
    kafka: [{ region: 'EUS2', value: { ...FULL, body: { amount: 10, note: LONG_NOTE } } }],
    final: [{ ...FULL, body: { amount: '10.0', note: LONG_NOTE } }],
    differs: [],
  },
  // Any other change of the text is a change, a decimal's trailing zero cut too (a gateway's limit).
  {
    requestId: 'num-3',
    site: 'US',
    kafka: [{ region: 'EUS2', value: { ...FULL, body: { amount: '1.50', note: LONG_NOTE } } }],
    final: [{ ...FULL, body: { amount: '1.5', note: LONG_NOTE } }],
    differs: ['body.amount'],
  },
  {
    requestId: 'num-4',
    site: 'US',
    kafka: [{ region: 'EUS2', value: { ...FULL, body: { amount: 100, note: LONG_NOTE } } }],
    final: [{ ...FULL, body: { amount: '10.00', note: LONG_NOTE } }],
    differs: ['body.amount'],
  },
  // A hostile id whose payload changed: listed as it is.
  {
    requestId: HOSTILE,
    site: 'CA',
    kafka: [{ region: 'EUS2', value: FULL }],
    final: [{ ...FULL, body: { ...FULL.body, amount: '=1+1' } }],
    differs: ['body.amount'],
  },
  // NaN, an infinity or a trailing comma anywhere in a message (Python's json.dumps writes NaN): DuckDB's reader
  // takes it, so its compared fields are compared, in either engine (BigQuery's PARSE_JSON took none of them).
  ...(
    [
      ['nan-hide', '{"body":{"amount":"5","note":"n"},"user":{"id":"u-1"},"ratio":NaN}'],
      ['inf-hide', '{"body":{"amount":"5","note":"n"},"user":{"id":"u-1"},"ratio":-Infinity}'],
      ['trail-hide', '{"body":{"amount":"5","note":"n",},"user":{"id":"u-1"},}'],
    ] as const
  ).map(([requestId, value]) => ({
    requestId,
    site: 'US' as Site,
    kafka: [{ region: 'EUS2', value }],
    final: [{ body: { amount: '6', note: 'n' }, user: { id: 'u-1' } }],
    differs: ['body.amount'],
  })),
  // A string's own ",]" beside a NaN: text, kept whole (the rewrite for BigQuery took its comma for a trailing one).
  {
    requestId: 'nan-text',
    site: 'US',
    kafka: [{ region: 'EUS2', value: '{"body":{"amount":"5","note":"q,]"},"user":{"id":"u-1"},"r":NaN}' }],
    final: [{ body: { amount: '5', note: 'q,]' }, user: { id: 'u-1' } }],
    differs: [],
  },
  {
    requestId: 'nan-same',
    site: 'CA',
    kafka: [{ region: 'SCUS', value: '{"body":{"amount":"5","note":"n"},"user":{"id":"u-1"},"ratio":NaN,}' }],
    final: [{ body: { amount: '5', note: 'n' }, user: { id: 'u-1' } }],
    differs: [],
  },
  // A message whose value is not JSON is compared with nothing.
  { requestId: 'nojson-1', site: 'US', kafka: [{ region: 'EUS2', value: '{"body": cut' }], final: [FULL], differs: [] },
  // In Kafka only, or in the final tier only: not in both, so never a content mismatch.
  { requestId: 'kafka-only', site: 'US', kafka: [{ region: 'EUS2', value: FULL }], final: [], differs: [] },
  {
    requestId: 'final-only',
    site: 'US',
    kafka: [],
    final: [{ ...FULL, user: { id: 'zzz' } }],
    differs: [],
  },
];

const text = (v: Payload | string) => (typeof v === 'string' ? v : JSON.stringify(v));

/** Kafka's messages as the reader hands them to the engine (payload: the value's text). */
export function kafkaRows(): TimedStreamedRow[] {
  return COMPARE_IDS.flatMap((c, i) =>
    c.kafka.map((k) => ({
      region: k.region,
      timestampMs: at('10:00:00') + i * 1000,
      requestId: c.requestId,
      siteHeader: c.site,
      inFlight: false,
      n: 1,
      payload: text(k.value),
    })),
  );
}

/** The final tier's records, with their fields beside the id, time and site. */
export function finalRecords(): { ts: number; request_id: string; site: string; body?: unknown; user?: unknown }[] {
  return COMPARE_IDS.flatMap((c, i) =>
    c.final.map((p) => ({ ts: at('10:00:30') + i * 1000, request_id: c.requestId, site: c.site, ...p })),
  );
}

/** The final tier's records as the embedded engine streams a table's rows in (payload: the record's JSON). */
export function finalRows(): StreamedRow[] {
  return finalRecords().map((r) => ({
    region: null,
    timestampMs: r.ts,
    requestId: r.request_id,
    siteHeader: r.site,
    inFlight: false,
    n: 1,
    payload: JSON.stringify(r),
  }));
}

/** The mismatches the fixture says, in report order: configured sites, then by request id. */
export function expectedMismatches(): ContentMismatch[] {
  const order = (site: Site) => (SITES.includes(site) ? SITES.indexOf(site) : SITES.length);
  return COMPARE_IDS.filter((c) => c.differs.length > 0)
    .map((c) => ({ site: c.site, requestId: c.requestId, fields: c.differs }))
    .sort((a, b) => order(a.site) - order(b.site) || (a.requestId < b.requestId ? -1 : 1));
}

export interface CompareUnderTest {
  engine: CountingEngine;
  /** The final tier's table (FINAL records with their compared fields). */
  final: BigqueryRangeReader;
  close(): Promise<void>;
}

/** Loads the fixture in the order a run does; the proxy tier is empty (compare does not read it). */
export async function loadCompareFixture(e: CompareUnderTest): Promise<void> {
  const { engine } = e;
  const window = dayWindow(DAY, ZONE);
  await engine.setWindows([window]);
  await engine.loadEmpty('proxy');
  await engine.files?.loadEmpty('gcs');
  await engine.beginStreamed('kafka');
  const rows = kafkaRows();
  // In two appends, as a reader hands batches over.
  await engine.appendStreamed('kafka', rows.slice(0, 3));
  await engine.appendStreamed('kafka', rows.slice(3));
  await engine.finishStreamed('kafka', SITES);
  await engine.loadTable('bigquery', e.final, window.startMs, window.endMs, SITES);
  await engine.joinIds([DAY], true);
}

/** Reads one day's mismatches whole. */
export async function listMismatches(engine: CountingEngine, day: DayKey): Promise<ContentMismatch[]> {
  const out: ContentMismatch[] = [];
  for await (const chunk of engine.compare!.mismatches(day)) out.push(...chunk);
  return out;
}

/** Registers the compare contract's tests for one engine. */
export function compareContract(name: string, make: () => Promise<CompareUnderTest>, timeoutMs = 60_000): void {
  describe(`compare contract: ${name}`, () => {
    let e: CompareUnderTest;

    beforeAll(async () => {
      e = await make();
      await loadCompareFixture(e);
      await e.engine.compare!.compareIds(true, SITES);
    }, timeoutMs);
    afterAll(async () => {
      await e?.engine.close();
      await e?.close();
    });

    it('offers compare when the config compares fields, with the paths in config order', () => {
      expect(e.engine.compare?.paths).toEqual(COMPARE);
    });

    it('lists exactly the ids whose fields were cut, rewritten or dropped, naming those fields in config order', async () => {
      await expect(listMismatches(e.engine, DAY)).resolves.toEqual(expectedMismatches());
    });

    it('counts the mismatches per day and site', async () => {
      const bySite = new Map<string, number>();
      for (const m of expectedMismatches()) bySite.set(m.site, (bySite.get(m.site) ?? 0) + 1);
      const counts = await e.engine.compare!.mismatchCounts();
      expect(new Map(counts.map((c) => [`${c.day} ${c.site}`, c.ids]))).toEqual(
        new Map([...bySite].map(([site, n]) => [`${DAY} ${site}`, n])),
      );
    });

    it('lists no mismatch for a day outside the batch', async () => {
      await expect(listMismatches(e.engine, '2025-03-08')).resolves.toEqual([]);
    });
  });
}
