import { parseConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

/** The smallest valid config document: a proxy and a gcs tier, relative to the config folder. */
export const BASE_CONFIG = {
  tiers: { proxy: { locations: ['proxy/dt={date}/'] }, gcs: { locations: ['gs://audit-api-logs-us-prod/dt={date}/'] } },
};

/** The ConfigError parsing `doc` (from the folder /base) throws; fails when it parses. */
export function configErrorOf(doc: unknown): ConfigError {
  try {
    parseConfig(doc, '/base');
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
