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

/** The ConfigError for a schema's first issue, named by its key path. */
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
  return new ConfigError(formatPath(issue.path), issue.message);
}

/** An unknown key that looks like a secret is told where secrets come from instead. */
function hint(key: string): string {
  if (/key|secret|password|credential|token/i.test(key))
    return ': secrets come from the environment or Application Default Credentials, never from the config file';
  return '';
}
