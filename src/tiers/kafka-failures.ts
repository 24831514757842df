import { AbortedError, TierError, throwIfAborted } from '../errors.js';

/** Kafka protocol error types that no retry fixes: a wrong topic name or missing ACLs. */
const NON_RETRIABLE_TYPES = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
]);
const NON_RETRIABLE_NAMES = new Set(['KafkaJSSASLAuthenticationError']);

/** Races `p` against the signal and a time limit; a lapse rejects with DeadlineError. */
export async function guarded<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  throwIfAborted(signal);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(what, timeoutMs)), Math.max(0, timeoutMs));
        if (signal) {
          onAbort = () => reject(new AbortedError());
          signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    // A loser that rejects later (e.g. a connect given up on) must not surface as unhandled.
    p.catch(() => undefined);
  }
}

class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
  constructor(what: string, timeoutMs: number) {
    super(`${what}: no answer within ${timeoutMs} ms`);
  }
}

/** An error thrown by the caller's onBatch: passed through as it is, not wrapped as a Kafka failure. */
export class CallerError extends Error {
  constructor(readonly original: unknown) {
    super('onBatch failed');
  }
}

/**
 * What to throw for a failure: AbortedError and the caller's own errors as they are, Kafka's as
 * TierError.
 */
export function readError(cluster: string, topic: string, what: string, e: unknown): unknown {
  if (e instanceof AbortedError || e instanceof TierError) return e;
  if (e instanceof CallerError) return e.original;
  const chain = causes(e);
  const type = chain.map((c) => c.type).find((t) => t !== undefined && NON_RETRIABLE_TYPES.has(t));
  const retriable = type === undefined && !chain.some((c) => c.name !== undefined && NON_RETRIABLE_NAMES.has(c.name));
  const detail =
    type === 'UNKNOWN_TOPIC_OR_PARTITION'
      ? `topic "${topic}" does not exist — check tiers.kafka.topic`
      : describe(chain);
  const hint = !retriable
    ? ''
    : e instanceof DeadlineError
      ? " — check the brokers' load, or raise tiers.kafka.readTimeoutMs / connectionTimeoutMs"
      : ' — check that the brokers are up and reachable, then run again';
  return new TierError('kafka', `cluster ${cluster}`, `${what}: ${detail}${hint}`, retriable, { cause: e });
}

interface ErrorLike {
  name?: string;
  message?: string;
  type?: string;
}

/** The error and what it wraps (kafkajs nests the real failure in `cause` of a retries-exceeded error). */
function causes(e: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let cur: unknown = e;
  while (cur !== null && typeof cur === 'object' && chain.length < 5) {
    chain.push(cur as ErrorLike);
    cur = (cur as { cause?: unknown }).cause;
  }
  return chain;
}

/** `Name: message`, then each cause whose message says something new (kafkajs wrappers repeat theirs). */
function describe(chain: ErrorLike[]): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const c of chain) {
    const message = c.message ?? '';
    if (seen.has(message)) continue;
    seen.add(message);
    parts.push(`${c.name ?? 'Error'}: ${message}`);
  }
  return parts.join('; caused by ') || 'unknown error';
}
