// The reader's type lives in the domain: the engines take it, the tiers make it.
export type { BigqueryRangeReader } from '../domain.js';
