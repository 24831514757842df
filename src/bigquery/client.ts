import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { QUERY_DEADLINE_MS } from './jobs.js';

/** The static bearer sent to a plain-http endpoint (an emulator): never a real credential over cleartext. */
const EMULATOR_ACCESS_TOKEN = 'bq-emulator';

/** How a run reaches BigQuery. */
export interface BigqueryClientOptions {
  /** The project that runs (and pays for) the jobs. */
  projectId?: string;
  apiEndpoint?: string;
  location?: string;
}

/**
 * A BigQuery client. An `http://` apiEndpoint is an emulator: it gets a static bearer token, so no
 * Application Default Credentials are looked up (that would probe the GCE metadata server) and no
 * real token ever travels over cleartext. Otherwise credentials are Application Default Credentials.
 * The client library itself honours BIGQUERY_EMULATOR_HOST over apiEndpoint: keep it unset.
 */
export function createBigqueryClient(options: BigqueryClientOptions): BigQuery {
  const endpoint = options.apiEndpoint?.replace(/\/+$/, '');
  const emulator = endpoint?.startsWith('http://') ?? false;
  return new BigQuery({
    ...(options.projectId ? { projectId: options.projectId } : {}),
    ...(options.location ? { location: options.location } : {}),
    ...(endpoint ? { apiEndpoint: endpoint } : {}),
    ...(emulator
      ? {
          authClient: new OAuth2Client({ credentials: { access_token: EMULATOR_ACCESS_TOKEN } }),
          // An emulator answers jobs.insert only once the query has run, which on a million-row
          // table takes minutes: the client's 60 s request timeout would cut it and retry the insert.
          timeout: QUERY_DEADLINE_MS,
          retryOptions: { totalTimeout: QUERY_DEADLINE_MS / 1000 },
        }
      : {}),
  });
}

/**
 * The run's BigQuery clients: one per connection (job project, location, endpoint), made on first
 * use and shared by the table tiers, the bigquery engine and the history writer. With the usual
 * config (one connection) a run holds one client.
 */
export class BigqueryClients {
  private readonly clients = new Map<string, BigQuery>();

  constructor(private readonly create: (options: BigqueryClientOptions) => BigQuery = createBigqueryClient) {}

  clientFor(options: BigqueryClientOptions): BigQuery {
    const key = JSON.stringify([options.projectId ?? null, options.location ?? null, options.apiEndpoint ?? null]);
    let client = this.clients.get(key);
    if (!client) {
      client = this.create(options);
      this.clients.set(key, client);
    }
    return client;
  }
}
