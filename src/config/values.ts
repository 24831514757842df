/** Small readings of config values the schema checks with. Pure. */

/** A memoryLimit's bytes: KB, MB and GB in powers of 1000, KiB, MiB and GiB of 1024 (as DuckDB reads them). */
export function memoryBytes(v: string): number {
  const unit = /([KMG])(i?)B$/i.exec(v.trim())!;
  const power = { K: 1, M: 2, G: 3 }[unit[1]!.toUpperCase() as 'K' | 'M' | 'G'];
  return Number.parseFloat(v) * (unit[2] ? 1024 : 1000) ** power;
}

/**
 * A location as an error quotes it, in the logs: a user and password (`gs://user:secret@b/`) and a query
 * (`?access_token=…`) are written `***`, so that a secret put in a location by mistake is not logged with it.
 */
export function shown(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/*)[^/?#]*@/i, '$1***@').replace(/([?#]).*$/s, '$1***');
}
