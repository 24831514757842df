/** A bad flag or argument on the command line (exit 2). `flag` names it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(readonly flag: string, message: string) {
    super(`${flag}: ${message}`);
  }
}

/** A config file that cannot be used (exit 2). `path` is the key path, e.g. `tiers.gcs.locations[1]`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
  }
}

/**
 * A tier, or one object of it, could not be read (exit 3). The day's rows for that tier say ERROR.
 * `retriable` tells whether running again may help (a timeout, a 503) or not (a corrupt gzip, a 403).
 */
export class TierError extends Error {
  override readonly name = 'TierError';
  constructor(
    readonly tier: string,
    readonly object: string,
    message: string,
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(`${tier}: ${object}: ${message}`, options);
  }
}

/** A bug or broken invariant: never the user's fault. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}

/** The run was stopped by a signal (SIGINT, SIGTERM) before it finished. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor() {
    super('aborted: the run was stopped before it finished; no partial report was written');
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}
