import type { RowStatus } from './domain.js';

/** Exit statuses: the contract's 0–3, then ours. `--help` prints them (src/command.ts), as the README does. */
export const EXIT = {
  ok: 0,
  fail: 1,
  usage: 2,
  tier: 3,
  internal: 4,
  output: 5,
  resources: 6,
  sigint: 130,
  sigterm: 143,
} as const;

/** A run's exit status from its rows: 3 when one is ERROR, 1 when one is FAIL or NO_DATA, else 0 (PASS, WARN). */
export function exitCodeFor(statuses: Iterable<RowStatus>): 0 | 1 | 3 {
  const seen = new Set(statuses);
  if (seen.has('ERROR')) return EXIT.tier;
  return seen.has('FAIL') || seen.has('NO_DATA') ? EXIT.fail : EXIT.ok;
}
