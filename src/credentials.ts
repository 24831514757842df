// Application Default Credentials' key file, checked before anything is read: its text is a secret.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from './config.js';
import { errnoOf } from './folders.js';
import { UsageError } from './errors.js';

const ENV = 'GOOGLE_APPLICATION_CREDENTIALS';
const GCLOUD_FILE = 'application_default_credentials.json';

/** Whether a run with `config` and `--out` talks to Google at all: GCS objects or BigQuery tables. Pure. */
export function usesGoogle(config: Config, out: string): boolean {
  const files = [config.tiers.proxy, config.tiers.gcs].flatMap((t) => t?.locations ?? []);
  return (
    out.startsWith('gs://') ||
    config.cache?.location.scheme === 'gs' ||
    files.some((l) => l.scheme === 'gs') ||
    config.tiers.bigquery !== undefined ||
    config.tiers.proxyBigquery !== undefined
  );
}

/**
 * The file GOOGLE_APPLICATION_CREDENTIALS (or its lower-case name) names, when it is set, else gcloud's
 * own `application_default_credentials.json` under `$CLOUDSDK_CONFIG` and `~/.config/gcloud`, each where
 * it is: it must be readable JSON. Google's auth
 * library would parse it at the first request and put the parser's message, with the text around the
 * fault (a slice of a client secret or private key), into every ERROR row, log line, HTML report and
 * alert of the run. So it is read here first, and a fault is exit 2 naming the variable, never the text.
 */
export async function checkCredentialsFile(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  // Google's auth libraries also read the variable in lower case; unset, gcloud's own file, under
  // CLOUDSDK_CONFIG (the newer library) or ~/.config/gcloud (the storage client's own, older one).
  const named = env[ENV] || env[ENV.toLowerCase()];
  const home = env.HOME ?? os.homedir();
  const gcloud = [env.CLOUDSDK_CONFIG, path.join(home, '.config', 'gcloud')].flatMap((d) =>
    d ? [path.join(d, GCLOUD_FILE)] : [],
  );
  for (const file of named ? [named] : [...new Set(gcloud)])
    await checkFile(file, named ? ENV : 'Application Default Credentials', !named);
}

async function checkFile(file: string, what: string, optional: boolean): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (optional && errnoOf(e) === 'ENOENT') return;
    throw new UsageError(what, `"${file}" cannot be read (${errnoOf(e) ?? 'unreadable'})`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
  } catch {
    throw new UsageError(
      what,
      `"${file}" is not a JSON credentials file (a service account key or an authorized_user file); ` +
        'its text is not shown, as it holds secrets',
    );
  }
  // The fields the auth library needs of it, named (never their values): without them it failed at the first
  // request, and every row said "request failed: The incoming JSON object does not contain a client_email field".
  const kind = typeof parsed.type === 'string' ? parsed.type : undefined;
  const needs = kind === 'authorized_user' ? AUTHORIZED_USER_FIELDS : OTHER_TYPES.has(kind ?? '') ? [] : KEY_FIELDS;
  const lacking = needs.filter((f) => typeof parsed[f] !== 'string' || parsed[f] === '');
  if (lacking.length > 0)
    throw new UsageError(
      what,
      `"${file}" lacks ${lacking.join(', ')}, which ` +
        `${kind ? `a credentials file of type ${kind}` : 'a service account key'} ` +
        'needs; its text is not shown, as it holds secrets',
    );
}

/** A service account key's fields (its type, or none: the auth library takes such a file for one). */
const KEY_FIELDS = ['client_email', 'private_key'] as const;
const AUTHORIZED_USER_FIELDS = ['client_id', 'client_secret', 'refresh_token'] as const;
/** Types whose fields are the auth library's to check (workload identity federation, impersonation). */
const OTHER_TYPES: ReadonlySet<string> = new Set([
  'external_account',
  'external_account_authorized_user',
  'impersonated_service_account',
  'gdch_service_account',
]);
