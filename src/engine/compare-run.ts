import type { DayKey, Site } from '../domain.js';
import type { Logger } from '../log/logger.js';
import type { ContentMismatch, MismatchCount, PayloadComparing } from './compare.js';

/** A batch's comparison: the engine's, and its counts per day and site. */
export interface BatchComparison {
  comparing: PayloadComparing;
  counts: MismatchCount[];
}

export interface CompareScope {
  /** Kafka is configured (its values were read with their payloads). */
  kafka: boolean;
  finalIsBigquery: boolean;
  /** The report order of the listing. */
  sites: readonly string[];
}

/**
 * Compares the batch's payloads once every tier is in and the ids are joined: undefined when compare
 * is off or cannot run (no Kafka to compare with: said as a warning).
 */
export async function comparePayloads(
  comparing: PayloadComparing | undefined,
  scope: CompareScope,
  log: Logger,
): Promise<BatchComparison | undefined> {
  if (!comparing) return undefined;
  if (!scope.kafka) {
    log.warn('compare: tiers.kafka is not configured; content_mismatch is left empty and no mismatch file is written');
    return undefined;
  }
  await comparing.compareIds(scope.finalIsBigquery, scope.sites);
  return { comparing, counts: await comparing.mismatchCounts() };
}

/** A day's mismatches of the reported sites (and UNKNOWN) only. */
export async function* keptMismatches(
  comparing: PayloadComparing,
  day: DayKey,
  keep: (site: Site) => boolean,
): AsyncGenerator<ContentMismatch[]> {
  for await (const chunk of comparing.mismatches(day)) yield chunk.filter((m) => keep(m.site));
}
