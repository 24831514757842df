import { addDays, dayOf, dayWindow } from '../dates.js';
import { type DayKey, UNKNOWN_SITE } from '../domain.js';
import { type Expected, ExpectedTally, type HeaderKind, type Outcome, OUTCOMES } from './expected.js';

export type { Expected, ExpectedRow } from './expected.js';
export { formatRecord } from './record-line.js';

/**
 * A seeded generator of realistic pipeline data with known causes. It knows what it injected, so
 * the expected report is counted from the causes, not from the records: attribution must find
 * the same numbers from the records alone. Pure: same options, same events.
 */

/** Shares of events per outcome; the rest are accepted at the first try and land once. */
export interface CauseMix {
  rejected413: number;
  rejected502: number;
  retried502: number;
  rejectedOther: number;
  lostUnexplained: number;
  /** Accepted, but the publisher failed and did not fall back: in no cluster. Only with Kafka. */
  lostBeforeKafka: number;
  /** Accepted and published, not yet written by the sink (the newest records). Only with Kafka. */
  inFlight: number;
  landedAfterReject: number;
  landedWithoutProxy: number;
  /** Independent of the outcome. */
  duplicate: number;
  /** Published to the other region's cluster as well (a fallback after a send that did succeed). */
  crossRegion: number;
  late: number;
  unroutableHeader: number;
  missingHeader: number;
  messyHeader: number;
}

export const DEFAULT_MIX: CauseMix = {
  rejected413: 0.05,
  rejected502: 0.01,
  retried502: 0.02,
  rejectedOther: 0.01,
  lostUnexplained: 0.002,
  lostBeforeKafka: 0.002,
  inFlight: 0.002,
  landedAfterReject: 0.002,
  landedWithoutProxy: 0.001,
  duplicate: 0.03,
  crossRegion: 0.01,
  late: 0.01,
  unroutableHeader: 0.003,
  missingHeader: 0.01,
  messyHeader: 0.02,
};

export interface ScenarioOptions {
  seed: number;
  days: DayKey[];
  timezone: string;
  sites: string[];
  eventsPerDay: number;
  mix: CauseMix;
  /** Junk lines per day and tier. */
  malformedPerDay: number;
  regions: string[];
  /** Generate the Kafka tier too: messages per cluster, and the causes only Kafka can tell. */
  kafka?: boolean;
}

/** A message as published to one regional cluster; `inFlight` ones lie past the sink's committed offset. */
export interface KafkaMessage {
  region: string;
  ts: number;
  request_id: string | null;
  site: string | undefined;
  inFlight: boolean;
}

export interface ProxyLine {
  ts: number;
  request_id: string;
  site: string | undefined;
  status: number;
  region: string;
}

export interface LandedCopy {
  ts: number;
  request_id: string;
  site: string | undefined;
  region: string;
  /** The UTC date of the folder the sink wrote it into. */
  folderDay: DayKey;
  /** The bucket's site: US takes records with no header, as the US filter does. */
  bucketSite: string;
}

export interface GeneratedEvent {
  day: DayKey;
  proxy: ProxyLine[];
  kafka: KafkaMessage[];
  landed: LandedCopy[];
}

/** A line that is not a usable record, written into a day's folder. */
export interface MalformedLine {
  tier: 'proxy' | 'gcs';
  folderDay: DayKey;
  /** The report row it must show up in. */
  site: string;
  text: string;
  bucketSite: string;
}

/** mulberry32: small, fast, and the same on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KAFKA_ONLY: readonly Outcome[] = ['lostBeforeKafka', 'inFlight'];
const OTHER_STATUSES = [400, 429, 500, 503, 504];
const UNROUTABLE = ['BR', 'GB', 'usa', 'C A'];
/**
 * With Kafka, a header can also be sent empty or blank: no filter keeps it either (the access log and the
 * landed line write "" for it, as for a header not sent). Without Kafka nothing tells it from a missing one.
 */
const UNROUTABLE_SENT = [...UNROUTABLE, '', ' '];
const SECOND_MS = 1000;

export class ScenarioGenerator {
  /** What the report must say: counted by the tally from the causes this generator injects. */
  readonly expected: Expected;
  private readonly tally = new ExpectedTally();
  private readonly rand: () => number;

  constructor(readonly options: ScenarioOptions) {
    this.expected = this.tally.expected;
    this.rand = prng(options.seed);
    // A header that names a configured site (BR, once configured) is routable: never one of these.
    const routable = (h: string) => options.sites.includes(h.trim().toUpperCase());
    this.unroutable = (options.kafka === true ? UNROUTABLE_SENT : UNROUTABLE).filter((h) => !routable(h));
  }

  /** The site headers no sink filter keeps, given the scenario's sites. */
  private readonly unroutable: readonly string[];

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  private requestId(day: DayKey, i: number): string {
    const hex = Math.floor(this.rand() * 0xffffffff)
      .toString(16)
      .padStart(8, '0');
    return `${day.replaceAll('-', '')}-${String(i).padStart(7, '0')}-${hex}`;
  }

  /** Every event of one day, in time order of generation (not of timestamp). */
  *events(day: DayKey): Generator<GeneratedEvent> {
    const { timezone, sites, mix, regions } = this.options;
    const w = dayWindow(day, timezone);
    // Room at the end of the day so that every retry of an event stays within it.
    const span = w.endMs - w.startMs - 10 * 60 * SECOND_MS;
    for (let i = 0; i < this.options.eventsPerDay; i++) {
      const ts = w.startMs + Math.floor(this.rand() * span);
      const rid = this.requestId(day, i);
      const region = this.pick(regions);
      let r = this.rand();
      let outcome: Outcome = 'ok';
      for (const o of OUTCOMES) {
        if (!this.options.kafka && KAFKA_ONLY.includes(o)) continue;
        if (r < mix[o]) {
          outcome = o;
          break;
        }
        r -= mix[o];
      }
      // Only the newest records can still be in flight: the sink has written everything older.
      if (outcome === 'inFlight' && day !== this.options.days.at(-1)) outcome = 'ok';
      const homeSite = this.pick(sites);
      const h = this.rand();
      let header: string | undefined = homeSite;
      let kind: HeaderKind = 'normal';
      if (outcome !== 'landedWithoutProxy' && outcome !== 'landedAfterReject') {
        if (h < mix.unroutableHeader) kind = 'unroutable';
        else if (h < mix.unroutableHeader + mix.missingHeader) kind = 'missing';
        else if (h < mix.unroutableHeader + mix.missingHeader + mix.messyHeader) kind = 'messy';
      }
      if (kind === 'unroutable') header = this.pick(this.unroutable);
      if (kind === 'missing') header = this.rand() < 0.5 ? undefined : '';
      if (kind === 'messy')
        header = this.rand() < 0.5 ? ` ${homeSite.toLowerCase()}` : `${homeSite[0]}${homeSite.slice(1).toLowerCase()} `;
      const row = kind === 'normal' || kind === 'messy' ? homeSite : UNKNOWN_SITE;
      const bucketSite = kind === 'missing' ? 'US' : homeSite;

      const statuses: number[] = [];
      switch (outcome) {
        case 'ok':
        case 'lostUnexplained':
        case 'lostBeforeKafka':
        case 'inFlight':
          statuses.push(this.pick([200, 200, 200, 201, 202, 204]));
          break;
        case 'rejected413':
          statuses.push(413, ...(this.rand() < 0.3 ? [413] : []));
          break;
        case 'rejected502':
          statuses.push(...(this.rand() < 0.2 ? [413] : []), 502, ...(this.rand() < 0.5 ? [502] : []));
          break;
        case 'retried502':
          statuses.push(502, ...(this.rand() < 0.3 ? [503] : []), 200);
          break;
        case 'rejectedOther':
          statuses.push(...(this.rand() < 0.3 ? [502] : []), this.pick(OTHER_STATUSES));
          break;
        case 'landedAfterReject':
          statuses.push(502);
          break;
        case 'landedWithoutProxy':
          break;
      }
      const proxy: ProxyLine[] = statuses.map((status, k) => ({
        ts: ts + k * (1 + Math.floor(this.rand() * 60)) * SECOND_MS,
        request_id: rid,
        site: header,
        status,
        region,
      }));
      const accepted = statuses.some((s) => s >= 200 && s < 300);
      const lands =
        outcome === 'landedAfterReject' ||
        outcome === 'landedWithoutProxy' ||
        (accepted &&
          outcome !== 'lostUnexplained' &&
          outcome !== 'lostBeforeKafka' &&
          outcome !== 'inFlight' &&
          kind !== 'unroutable');
      const kafka: KafkaMessage[] = [];
      const published = this.options.kafka === true && (accepted || lands) && outcome !== 'lostBeforeKafka';
      if (published) {
        // In-flight records are the newest: the sink has consumed everything older.
        const kts = outcome === 'inFlight' ? w.endMs - 1 - Math.floor(this.rand() * 5 * 60 * SECOND_MS) : ts;
        const inFlight = outcome === 'inFlight';
        const copies = this.rand() < mix.duplicate ? 2 : 1;
        // A header not sent is none on the message; the access log may write it as "".
        const sent = kind === 'missing' ? undefined : header;
        for (let c = 0; c < copies; c++) kafka.push({ region, ts: kts, request_id: rid, site: sent, inFlight });
        const cross = this.rand() < mix.crossRegion;
        if (cross)
          kafka.push({
            region: regions.find((g) => g !== region) ?? region,
            ts: kts,
            request_id: rid,
            site: sent,
            inFlight,
          });
        const inRegions = kafka.map((m) => m.region);
        this.tally.published(day, row, inRegions, cross && regions.length > 1, kind === 'unroutable');
      }
      const landed: LandedCopy[] = [];
      if (lands) {
        const copies = this.rand() < mix.duplicate ? 2 + Math.floor(this.rand() * 2) : 1;
        const utcDay = dayOf(ts, 'UTC');
        for (let c = 0; c < copies; c++) {
          // A late copy is written after the next UTC midnight; a prompt one within seconds.
          const late = this.rand() < mix.late;
          const written = late
            ? Date.parse(`${addDays(utcDay, 1)}T00:00:00Z`) + Math.floor(this.rand() * 6 * 3600 * SECOND_MS)
            : ts + Math.floor(this.rand() * 5 * SECOND_MS);
          const folderDay = dayOf(written, 'UTC');
          landed.push({
            ts,
            request_id: rid,
            site: header,
            region: c === 0 ? region : this.pick(regions),
            folderDay,
            bucketSite,
          });
        }
        const folderDays = landed.map((l) => l.folderDay);
        this.tally.landed(day, row, utcDay, folderDays);
      }

      // Expected columns, from the outcome.
      this.tally.outcome(day, row, { requestId: rid, outcome, kind, statuses, accepted, lands });
      yield { day, proxy, kafka, landed };
    }
  }

  /** Kafka messages of a day with no request id (a producer bug), each counted in its row. */
  kafkaMalformed(day: DayKey): KafkaMessage[] {
    if (!this.options.kafka) return [];
    const w = dayWindow(day, this.options.timezone);
    const out: KafkaMessage[] = [];
    for (let i = 0; i < this.options.malformedPerDay; i++) {
      const site = this.pick(this.options.sites);
      const region = this.pick(this.options.regions);
      out.push({
        region,
        ts: w.startMs + Math.floor(this.rand() * (w.endMs - w.startMs - 10 * 60 * SECOND_MS)),
        request_id: null,
        site,
        inFlight: false,
      });
      this.tally.count(day, site, 'kafka_malformed');
      this.tally.count(day, site, 'kafka_records');
      this.tally.countRegion(day, site, region);
      this.tally.count(day, site, 'kafka_offset_records');
    }
    return out;
  }

  /** Junk lines for a day's folders, each counted in the row it must appear in. */
  malformed(day: DayKey): MalformedLine[] {
    const out: MalformedLine[] = [];
    for (let i = 0; i < this.options.malformedPerDay; i++) {
      for (const tier of ['proxy', 'gcs'] as const) {
        const site = this.pick(this.options.sites);
        const variants: [string, string][] = [
          [UNKNOWN_SITE, 'GET /healthz 200 - not json'],
          [UNKNOWN_SITE, `{"request_id":"trunc-${i}","timestamp":"${day}T00:00`],
          [site, JSON.stringify({ request_id: `nots-${day}-${i}`, site, status: 200 })],
          [site, JSON.stringify({ request_id: `badts-${day}-${i}`, timestamp: 'yesterday', site, status: 200 })],
        ];
        const [row, text] = this.pick(variants);
        this.tally.count(day, row, tier === 'proxy' ? 'proxy_malformed' : 'gcs_malformed');
        out.push({ tier, folderDay: day, site: row, text, bucketSite: row === UNKNOWN_SITE ? 'US' : site });
      }
    }
    return out;
  }
}
