import type { IdFacts, LossCause } from '../domain.js';

export type { LossCause };

/** In order: the first that matches is the cause. Without Kafka, only unknown_site and unexplained can. */
export const LOSS_CAUSES: readonly { cause: LossCause; when: (f: IdFacts) => boolean; means: string }[] = [
  {
    cause: 'lost_before_kafka',
    // Landed in GCS (BigQuery the final tier), it went through Kafka, whose day may be the next (its own timestamp):
    // the gap is after GCS, no publisher's.
    when: (f) => f.kafkaKnown && !f.inKafka && !f.inGcs,
    means:
      'accepted by the proxy but in no Kafka cluster, nor landed in GCS (which only Kafka feeds): the publisher ' +
      'failed and did not fall back',
  },
  {
    cause: 'unknown_site',
    when: (f) => f.unroutable,
    means: 'the wm-site-id header named no configured site, so every sink filter dropped the record',
  },
  {
    cause: 'in_flight',
    when: (f) => f.kafkaKnown && f.inFlight,
    means: "in Kafka beyond the sink group's committed offset: published, not yet written",
  },
  { cause: 'unexplained', when: () => true, means: 'accepted, and no cause above explains why it never landed' },
];

export function lossCause(f: IdFacts): LossCause {
  return LOSS_CAUSES.find((r) => r.when(f))!.cause;
}

/** The furthest tier in which a missing id was still seen. */
export function lastTier(f: IdFacts): 'proxy' | 'kafka' | 'gcs' {
  return f.inGcs ? 'gcs' : f.inKafka ? 'kafka' : 'proxy';
}

/** The id-level columns, each a count of request ids whose facts match its rule. */
export type IdColumn =
  | 'proxy_distinct'
  | 'accepted_distinct'
  | 'retry_recovered'
  | 'lost_413'
  | 'lost_502'
  | 'lost_other'
  | 'missing'
  | 'unknown_site'
  | 'missing_unexplained'
  | 'landed_not_accepted'
  | 'landed_after_reject'
  | 'landed_without_proxy'
  | 'cross_region_duplicates'
  | 'unroutable'
  | 'lost_before_kafka'
  | 'in_flight';

/** The facts of an id that are flags (true or false), by name. */
export type FlagFact = { [K in keyof IdFacts]: IdFacts[K] extends boolean ? K : never }[keyof IdFacts];

/** A condition on an id's flags, as data: every `holds` fact true, every `lacks` fact false. */
export interface FactPredicate {
  holds: readonly FlagFact[];
  lacks: readonly FlagFact[];
}

/**
 * "Missing", defined once: an id the proxy accepted that the final tier lacks. It is data, not a
 * function, so that every reader takes this one definition: the rules below (`missing`), the
 * engines' missing-ids queries (their WHERE is rendered from it: src/engine/fact-sql.ts), and the
 * facts a missing id read back from those queries is given.
 */
export const MISSING: FactPredicate = { holds: ['accepted'], lacks: ['inFinal'] };

/** True when the facts meet the predicate. */
export function meets(p: FactPredicate, f: IdFacts): boolean {
  return p.holds.every((k) => f[k]) && p.lacks.every((k) => !f[k]);
}

const missing = (f: IdFacts): boolean => meets(MISSING, f);

/**
 * The attribution table: which ids each column counts, and which tiers it needs ('kafka': the
 * Kafka tier configured, read, and within retention). A column whose tier could not be read is
 * left empty, never zero.
 */
export const ID_RULES: readonly {
  column: IdColumn;
  needs: readonly ('proxy' | 'kafka' | 'final')[];
  when: (f: IdFacts) => boolean;
}[] = [
  { column: 'proxy_distinct', needs: ['proxy'], when: (f) => f.inProxy },
  { column: 'accepted_distinct', needs: ['proxy'], when: (f) => f.accepted },
  { column: 'retry_recovered', needs: ['proxy'], when: (f) => f.accepted && f.rejected },
  { column: 'lost_413', needs: ['proxy'], when: (f) => f.inProxy && !f.accepted && f.lastReject === '413' },
  { column: 'lost_502', needs: ['proxy'], when: (f) => f.inProxy && !f.accepted && f.lastReject === '502' },
  { column: 'lost_other', needs: ['proxy'], when: (f) => f.inProxy && !f.accepted && f.lastReject === 'other' },
  { column: 'missing', needs: ['proxy', 'final'], when: missing },
  { column: 'unknown_site', needs: ['proxy', 'final'], when: (f) => missing(f) && lossCause(f) === 'unknown_site' },
  {
    column: 'missing_unexplained',
    needs: ['proxy', 'final'],
    when: (f) => missing(f) && lossCause(f) === 'unexplained',
  },
  { column: 'landed_not_accepted', needs: ['proxy', 'final'], when: (f) => f.inFinal && !f.accepted },
  { column: 'landed_after_reject', needs: ['proxy', 'final'], when: (f) => f.inFinal && f.inProxy && !f.accepted },
  { column: 'landed_without_proxy', needs: ['proxy', 'final'], when: (f) => f.inFinal && !f.inProxy },
  { column: 'cross_region_duplicates', needs: ['kafka'], when: (f) => f.crossRegion },
  { column: 'unroutable', needs: ['kafka'], when: (f) => f.inKafka && f.unroutable },
  {
    column: 'lost_before_kafka',
    needs: ['proxy', 'kafka', 'final'],
    when: (f) => missing(f) && lossCause(f) === 'lost_before_kafka',
  },
  { column: 'in_flight', needs: ['proxy', 'kafka', 'final'], when: (f) => missing(f) && lossCause(f) === 'in_flight' },
];
