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

/**
 * The embedded engine reads a record's fields into a struct whose names are case-blind: two paths whose
 * names at one level differ only in case (`region` and `Region`, `body.a` and `Body.b`) cannot both be read
 * from a line. Checked with the config, before anything is read. Pure; throws ConfigError naming the key of
 * the later path: `${fieldsKey}.NAME` for a field, `compare[i]` for a compared path.
 */
export function checkFieldCases(
  fields: RecordFields | undefined,
  fieldsKey: string,
  compare: readonly string[] = [],
): void {
  const named: [string, string][] = [
    ...Object.entries(fields ?? {}).map(([name, dotted]): [string, string] => [`${fieldsKey}.${name}`, dotted]),
    ...compare.map((dotted, i): [string, string] => [`compare[${i}]`, dotted]),
  ];
  // Each level's names, keyed by their parent's exact path and their lower-case form.
  const seen = new Map<string, { name: string; key: string }>();
  for (const [key, dotted] of named) {
    const segments = dotted.split('.');
    segments.forEach((segment, i) => {
      const parent = segments.slice(0, i).join('.');
      const folded = `${parent}\u0000${segment.toLowerCase()}`;
      const first = seen.get(folded);
      if (first === undefined) seen.set(folded, { name: segment, key });
      else if (first.name !== segment)
        throw new ConfigError(
          key,
          `"${dotted}": its name "${segment}" and "${first.name}" in ${first.key} differ only in case, ` +
            "and the engine reads a record's names without case: read one of them only",
        );
    });
  }
}
