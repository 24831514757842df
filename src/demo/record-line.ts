/** How the demo writes one record line, in the timestamp formats real producers use. */

const HOUR_MS = 3600 * 1000;

/** One record line, its timestamp as ISO with Z, ISO with an offset, or epoch milliseconds. */
export function formatRecord(
  r: { ts: number; request_id: string; site: string | undefined; status?: number; region: string },
  rand: () => number,
): string {
  const f = rand();
  const timestamp = f < 0.5 ? new Date(r.ts).toISOString() : f < 0.8 ? r.ts : isoWithOffset(r.ts, -6);
  const record: Record<string, unknown> = { timestamp, request_id: r.request_id };
  if (r.site !== undefined) record.site = r.site;
  if (r.status !== undefined) record.status = r.status;
  record.region = r.region;
  return JSON.stringify(record);
}

function isoWithOffset(ms: number, hours: number): string {
  const local = new Date(ms + hours * HOUR_MS).toISOString().slice(0, 23);
  const sign = hours < 0 ? '-' : '+';
  return `${local}${sign}${String(Math.abs(hours)).padStart(2, '0')}:00`;
}
