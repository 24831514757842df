import { ConfigError } from '../errors.js';
import type { RecordFields } from './schema.js';

/**
 * A compared field and a landed record field can be read from one record only if neither lies
 * inside the other (one would be read as a value, the other as an object): checked with the config,
 * before anything is read. Pure; throws ConfigError naming `compare[i]`.
 */
export function checkComparePaths(compare: readonly string[], fields: RecordFields | undefined): void {
  compare.forEach((p, i) => {
    for (const [name, f] of Object.entries(fields ?? {})) {
      if (p.startsWith(`${f}.`) || f.startsWith(`${p}.`))
        throw new ConfigError(
          `compare[${i}]`,
          `"${p}" and tiers.gcs.fields.${name} "${f}" lie one inside the other: a field is a value or an object`,
        );
    }
  });
}
