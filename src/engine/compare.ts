import { ALL_SITES, type DayKey, type ParityRow, type Site } from '../domain.js';

/** A request id found in Kafka and in the final tier whose compared fields differ. */
export interface ContentMismatch {
  site: Site;
  requestId: string;
  /** The differing field paths, in config order. */
  fields: string[];
}

/** Ids with a content mismatch, per day and site of the batch. */
export interface MismatchCount {
  day: DayKey;
  site: Site;
  ids: number;
}

/** Mismatches listed per page of the day's list: the list is never held whole. */
export const MISMATCH_PAGE_ROWS = 10_000;

/**
 * What an engine offers for `compare` (an optional member of CountingEngine, present when the config
 * compares fields): Kafka's and the final tier's records' compared fields are hashed where they are
 * aggregated (src/engine/compare-sql.ts); these read the result.
 */
export interface PayloadComparing {
  /** The compared paths, in config order. */
  readonly paths: readonly string[];
  /** After joinIds: finds the batch's ids in Kafka and the final tier whose compared fields differ. */
  compareIds(finalIsBigquery: boolean, sites: readonly string[]): Promise<void>;
  /** How many per day and site (none: no row). */
  mismatchCounts(): Promise<MismatchCount[]>;
  /** One day's, sites in config order then UNKNOWN, each by request id, a page at a time. */
  mismatches(day: DayKey): AsyncGenerator<ContentMismatch[]>;
}

/**
 * Where the next page of a day's mismatches starts: after this site number, site and request id (null: the
 * first). The site too: sites left out of a --sites run share UNKNOWN's number, and one id in two of them
 * lost its second row at a page's end.
 */
export type MismatchCursor = { siteNo: number; site: string; requestId: string } | null;

/**
 * A day's mismatches a page at a time, from an engine's page query (compare-page.sql: rows of site,
 * site_no, request_id, fields, in list order, at most `pageRows` after the cursor), both engines alike.
 */
export async function* mismatchPages(
  page: (after: MismatchCursor) => Promise<Record<string, unknown>[]>,
  paths: readonly string[],
  pageRows: number,
): AsyncGenerator<ContentMismatch[]> {
  let after: MismatchCursor = null;
  for (;;) {
    const rows = await page(after);
    if (rows.length === 0) return;
    yield rows.map((r) => ({
      site: String(r.site),
      requestId: String(r.request_id),
      fields: differingPaths(r.fields, paths),
    }));
    const last = rows.at(-1)!;
    after = { siteNo: Number(last.site_no), site: String(last.site), requestId: String(last.request_id) };
    if (rows.length < pageRows) return;
  }
}

/** The paths of the field indexes an engine found differing, in config order. Pure. */
export function differingPaths(indexes: unknown, paths: readonly string[]): string[] {
  const list = Array.isArray(indexes) ? indexes.map(Number) : [];
  return paths.filter((_, i) => list.includes(i));
}

/** An engine's count rows (day, site, ids) as counts. Pure. */
export function mismatchCountsOf(rows: readonly Record<string, unknown>[]): MismatchCount[] {
  return rows.map((r) => ({ day: String(r.day), site: String(r.site), ids: Number(r.ids) }));
}

/**
 * The day's rows with content_mismatch: each site's count (0 when none), ALL the sum of the rows
 * above it; empty (null) everywhere when the day could not be compared whole. Pure.
 */
export function withContentMismatch(
  rows: readonly ParityRow[],
  counts: readonly MismatchCount[],
  day: DayKey,
  complete: boolean,
): ParityRow[] {
  const bySite = new Map(counts.filter((c) => c.day === day).map((c) => [c.site, c.ids]));
  let sum = 0;
  return rows.map((r) => {
    if (!complete) return { ...r, content_mismatch: null };
    if (r.site === ALL_SITES) return { ...r, content_mismatch: sum };
    const ids = bySite.get(String(r.site)) ?? 0;
    sum += ids;
    return { ...r, content_mismatch: ids };
  });
}
