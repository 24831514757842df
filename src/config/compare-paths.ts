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
  // A field read by its own name (`region: region`) is likely the default, which the config need not show.
  const named: { key: string; dotted: string; byDefault: boolean }[] = [
    ...Object.entries(fields ?? {}).map(([name, dotted]) => ({
      key: `${fieldsKey}.${name}`,
      dotted,
      byDefault: dotted === name,
    })),
    ...compare.map((dotted, i) => ({ key: `compare[${i}]`, dotted, byDefault: false })),
  ];
  // Each level's names, keyed by their parent's exact path and their lower-case form.
  type Use = { segment: string; field: (typeof named)[number] };
  const seen = new Map<string, Use>();
  for (const field of named) {
    const segments = field.dotted.split('.');
    segments.forEach((segment, i) => {
      const folded = `${segments.slice(0, i).join('.')}\u0000${segment.toLowerCase()}`;
      const first = seen.get(folded);
      if (first === undefined) return void seen.set(folded, { segment, field });
      if (first.segment === segment) return;
      // Named by the key the config sets, the other one (perhaps a default it never wrote) said as such.
      const later: Use = { segment, field };
      const [set, other] = field.byDefault && !first.field.byDefault ? [first, later] : [later, first];
      throw new ConfigError(
        set.field.key,
        `"${set.field.dotted}": its name "${set.segment}" and "${other.segment}" of ${other.field.key}` +
          `${other.field.byDefault ? ' (its default)' : ''} differ only in case, and the engine reads a record's ` +
          `names without case: only one can be read — ` +
          (other.field.key.startsWith('compare[')
            ? 'compare one of them only'
            : `map ${other.field.key} to another field`),
      );
    });
  }
}
