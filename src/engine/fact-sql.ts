import type { IdFacts } from '../domain.js';
import { type FactPredicate, MISSING } from '../reconcile/rules.js';

/** The id_facts column of a fact, in both engines' tables: its snake_case name (`inFinal` → `in_final`). */
export function factColumn(fact: keyof IdFacts): string {
  return fact.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * A fact predicate as a SQL condition over id_facts' boolean columns, the same text in DuckDB and
 * BigQuery (AND, NOT and parentheses mean the same in both). `alias`: the table's, with its dot.
 */
export function factPredicateSql(p: FactPredicate, alias = ''): string {
  const terms = [
    ...p.holds.map((k) => `${alias}${factColumn(k)}`),
    ...p.lacks.map((k) => `NOT ${alias}${factColumn(k)}`),
  ];
  return `(${terms.join(' AND ')})`;
}

/** The missing-ids queries' condition: the rules' one definition of a missing id. */
export function missingSql(alias = ''): string {
  return factPredicateSql(MISSING, alias);
}

/** The flags every missing id has by that definition: what a row of the missing-ids queries need not carry. */
export const MISSING_FACTS: Partial<IdFacts> = Object.fromEntries([
  ...MISSING.holds.map((k) => [k, true] as const),
  ...MISSING.lacks.map((k) => [k, false] as const),
]);
