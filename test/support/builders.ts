import type { IdFactGroup, IdFacts } from '../../src/domain.js';

/** An id with no fact set: in no tier, never accepted or rejected. Tests override what they need. */
export const NO_FACTS: Readonly<IdFacts> = {
  inProxy: false,
  accepted: false,
  rejected: false,
  lastReject: null,
  unroutable: false,
  kafkaKnown: false,
  inKafka: false,
  crossRegion: false,
  inFlight: false,
  inGcs: false,
  inBigquery: false,
  inFinal: false,
};

/** The facts of one id: NO_FACTS with `over` applied. */
export const idFacts = (over: Partial<IdFacts> = {}): IdFacts => ({ ...NO_FACTS, ...over });

/** A group of `ids` request ids of one day and site sharing the same facts. */
export const factGroup = (day: string, site: string, ids: number, over: Partial<IdFactGroup> = {}): IdFactGroup => ({
  day,
  site,
  ids,
  ...NO_FACTS,
  ...over,
});
