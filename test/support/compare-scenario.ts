/**
 * Generated `compare` scenarios: ids with random payloads, each given one alteration on its way from
 * Kafka to the final tier (or none), and the mismatches that must come back, derived from the
 * alterations alone. Seeded, so a failure names the seed that reproduces it.
 */
import { prng } from '../../src/demo/generator.js';
import type { Site, StreamedRow, TimedStreamedRow } from '../../src/domain.js';
import type { ContentMismatch } from '../../src/engine/compare.js';

export const SCENARIO_DAY = '2025-03-09';
export const SCENARIO_SITES: Site[] = ['US', 'CA', 'MX'];
/** Compared in this order; `body.qty` may be a number in Kafka and its digits in the final tier. */
export const SCENARIO_COMPARE = ['body.amount', 'user.id', 'body.note', 'body.qty'];

interface Payload {
  body?: { amount?: string | null; note?: string; qty?: number | string };
  user?: { id?: string };
  /** Not compared: changing it changes nothing. */
  trace?: string;
}

/** What happened to an id's payload on the way. */
export type Alteration =
  | 'none'
  | 'duplicated'
  | 'cut'
  | 'rewritten'
  | 'dropped'
  | 'null-for-absent'
  | 'digits-for-number'
  | 'uncompared-changed'
  | 'second-copy-differs'
  | 'kafka-only'
  | 'final-only';
const ALTERATIONS: readonly Alteration[] = [
  'none',
  'duplicated',
  'cut',
  'rewritten',
  'dropped',
  'null-for-absent',
  'digits-for-number',
  'uncompared-changed',
  'second-copy-differs',
  'kafka-only',
  'final-only',
];

/** Fields whose value is text, so that it can be cut or rewritten. */
const TEXT_FIELDS = ['body.amount', 'user.id', 'body.note'] as const;

export interface CompareScenario {
  seed: number;
  kafka: TimedStreamedRow[];
  /** The final tier's records, flat: ts, request_id, site and the payload's fields. */
  final: { ts: number; request_id: string; site: string; body?: unknown; user?: unknown; trace?: string }[];
  alterations: Map<string, Alteration>;
  expected: ContentMismatch[];
}

const clone = (p: Payload): Payload => JSON.parse(JSON.stringify(p)) as Payload;

function get(p: Payload, path: string): unknown {
  const [a, b] = path.split('.') as [keyof Payload, string];
  return (p[a] as Record<string, unknown> | undefined)?.[b];
}
function set(p: Payload, path: string, value: unknown): void {
  const [a, b] = path.split('.') as ['body' | 'user', string];
  (p[a] as Record<string, unknown>)[b] = value;
}
function drop(p: Payload, path: string): void {
  const [a, b] = path.split('.') as ['body' | 'user', string];
  delete (p[a] as Record<string, unknown>)[b];
}

/** A scenario of `ids` request ids over one day. */
export function compareScenario(seed: number, ids = 120): CompareScenario {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const text = (min: number, max: number) => {
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789 -_"\\é';
    const n = min + Math.floor(r() * (max - min + 1));
    return Array.from({ length: n }, () => pick([...chars])).join('');
  };
  const start = Date.parse(`${SCENARIO_DAY}T00:00:00Z`);
  const kafka: TimedStreamedRow[] = [];
  const final: CompareScenario['final'] = [];
  const alterations = new Map<string, Alteration>();
  const expected: ContentMismatch[] = [];
  for (let i = 0; i < ids; i++) {
    const requestId = `${seed}-${i}-${text(0, 3)}`;
    const site = pick(SCENARIO_SITES);
    const ts = start + Math.floor(r() * 86_000_000);
    const sent: Payload = {
      body: { amount: `${Math.floor(r() * 1000)}.${Math.floor(r() * 90 + 10)}`, note: text(3, 60) },
      user: { id: `u-${text(2, 8)}` },
      trace: text(4, 8),
    };
    const kind = pick(ALTERATIONS);
    alterations.set(requestId, kind);
    const landed = clone(sent);
    let differs: string[] = [];
    const kafkaCopies: Payload[] = [sent];
    const finalCopies: Payload[] = [landed];
    switch (kind) {
      case 'none':
        break;
      case 'duplicated':
        kafkaCopies.push(clone(sent));
        finalCopies.push(clone(landed));
        break;
      case 'cut': {
        const field = pick(TEXT_FIELDS);
        const value = String(get(sent, field));
        set(landed, field, value.slice(0, Math.max(0, value.length - 1 - Math.floor(r() * value.length))));
        differs = [field];
        break;
      }
      case 'rewritten': {
        const field = pick(TEXT_FIELDS);
        set(landed, field, `${String(get(sent, field))}!`);
        differs = [field];
        break;
      }
      case 'dropped': {
        const field = pick(TEXT_FIELDS);
        drop(landed, field);
        differs = [field];
        break;
      }
      case 'null-for-absent':
        set(sent, 'body.amount', null);
        drop(landed, 'body.amount');
        break;
      case 'digits-for-number': {
        const qty = Math.floor(r() * 10_000);
        set(sent, 'body.qty', qty);
        set(landed, 'body.qty', String(qty));
        break;
      }
      case 'uncompared-changed':
        landed.trace = `${sent.trace}?`;
        break;
      case 'second-copy-differs': {
        const other = clone(landed);
        set(other, 'user.id', `${String(get(landed, 'user.id'))}-2`);
        finalCopies.push(other);
        differs = ['user.id'];
        break;
      }
      case 'kafka-only':
        finalCopies.length = 0;
        break;
      case 'final-only':
        kafkaCopies.length = 0;
        break;
    }
    kafkaCopies.forEach((p, copy) =>
      kafka.push({
        region: copy % 2 === 0 ? 'EUS2' : 'SCUS',
        timestampMs: ts + copy,
        requestId,
        siteHeader: site,
        inFlight: false,
        n: 1,
        payload: JSON.stringify(p),
      }),
    );
    finalCopies.forEach((p, copy) => final.push({ ts: ts + 500 + copy, request_id: requestId, site, ...p }));
    if (differs.length > 0)
      expected.push({ site, requestId, fields: SCENARIO_COMPARE.filter((f) => differs.includes(f)) });
  }
  const order = (site: Site) => SCENARIO_SITES.indexOf(site);
  expected.sort((a, b) => order(a.site) - order(b.site) || (a.requestId < b.requestId ? -1 : 1));
  return { seed, kafka, final, alterations, expected };
}

/** The final tier's records as rows an embedded engine streams in (payload: the record's JSON). */
export function scenarioFinalRows(s: CompareScenario): StreamedRow[] {
  return s.final.map((f) => ({
    region: null,
    timestampMs: f.ts,
    requestId: f.request_id,
    siteHeader: f.site,
    inFlight: false,
    n: 1,
    payload: JSON.stringify(f),
  }));
}
