import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * How a schema failure reads: the key path of the first wrong key, and for a key the schema does
 * not know, the refusal of secrets in the file.
 */

/** `a.b[1].c` from a zod path. */
export function formatPath(parts: readonly PropertyKey[]): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/**
 * The ConfigError for a schema's failure: of its issues, the one that names what the file says. A key the schema
 * does not know comes first (a secret-looking one before any), since a misspelt or misplaced key also leaves
 * the key it stands for missing, and that issue alone (`tiers.gcs.locations: missing`) would not name the key
 * written (`tiers.gcs.location`); a password in the file is refused as a secret, not as a missing `passwordEnv`.
 */
export function configErrorOfIssues(issues: readonly z.core.$ZodIssue[], input?: unknown): ConfigError {
  const unknown = issues.filter((i) => i.code === 'unrecognized_keys');
  // A secret below an unknown key (`auth_config: {private_key: …}`) is named where it is, as a secret.
  for (const i of unknown)
    for (const key of i.keys) {
      const below = secretBelow(valueAt(input, [...i.path, key]), [...i.path, key]);
      if (below) return configErrorOf({ ...i, path: below.slice(0, -1), keys: [String(below.at(-1))] });
    }
  const secret = unknown.find((i) => i.keys.some((k) => hint(k) !== ''));
  const issue = secret ?? unknown[0] ?? issues[0]!;
  if (secret) return configErrorOf({ ...secret, keys: secret.keys.filter((k) => hint(k) !== '') });
  return configErrorOf(issue);
}

/** The ConfigError for one issue, named by its key path. */
export function configErrorOf(issue: z.core.$ZodIssue): ConfigError {
  if (issue.code === 'invalid_union') {
    // The one alternative of the input's type (a site's code, or its object) says what is wrong, and where.
    const ofType = (e: z.core.$ZodIssue[]) =>
      e[0] !== undefined && (e[0].code !== 'invalid_type' || e[0].path.length > 0);
    const [only, ...more] = issue.errors.filter(ofType);
    if (only && more.length === 0) return configErrorOf({ ...only[0]!, path: [...issue.path, ...only[0]!.path] });
  }
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return new ConfigError(formatPath([...issue.path, key]), `unknown key${hint(key)}`);
  }
  // zod's "Invalid input: expected array, received undefined" for a key the file does not have
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined'))
    return new ConfigError(formatPath(issue.path), `missing: expected ${issue.expected}`);
  return new ConfigError(formatPath(issue.path), issue.message);
}

/** An unknown key that looks like a secret is told where secrets come from instead. */
function hint(key: string): string {
  // Not a mistyped *Env key (`passwordENV` names a variable, not a secret), nor `author`; `authorization` is one.
  if (/env$/i.test(key)) return '';
  if (/key|secret|passw|pwd|credential|token|auth(?!ors?$)|bearer|private|cert|serviceaccount/i.test(key))
    return ': secrets come from the environment or Application Default Credentials, never from the config file';
  return '';
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v = doc;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** The path of the first key below `value` (an object) that looks like a secret, three levels deep at most. */
function secretBelow(value: unknown, path: PropertyKey[], depth = 0): PropertyKey[] | null {
  if (depth > 2 || value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  for (const [k, v] of Object.entries(value)) {
    if (hint(k) !== '') return [...path, k];
    const deeper = secretBelow(v, [...path, k], depth + 1);
    if (deeper) return deeper;
  }
  return null;
}
