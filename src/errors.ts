/** A bad flag or argument on the command line (exit 2). `flag` names it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`${flag}: ${message}`);
  }
}

/** A config file that cannot be used (exit 2). `path` is the key path, e.g. `tiers.gcs.locations[1]`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly path: string,
    message: string,
  ) {
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

/**
 * The counting engine ran out of a resource it was given (its memory limit): exit 6. Not a bug and not
 * the data's fault: the message names the setting to change. Days finished before it keep their reports.
 */
export class ResourceError extends Error {
  override readonly name = 'ResourceError';
  constructor(
    message: string,
    /** What ran out, in the words of what ran out of it (the engine's message's first line). */
    readonly detail = '',
    options?: ErrorOptions,
  ) {
    super(message, options);
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

/**
 * A report could not be written to its folder (a full disk, a read-only or vanished folder): exit 5.
 * `file` is the report it was writing, `code` the system's errno code (ENOSPC, EACCES, …). The
 * day's previous files are left as they were.
 */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  constructor(
    readonly file: string,
    readonly code: string,
    /** Why, in words, with what to do. */
    readonly reason: string,
    options?: { cause?: unknown; kept?: string },
  ) {
    super(`cannot write ${file}: ${reason} (${code})`, options);
    this.kept = options?.kept ?? "its previous version, and the rest of that day's reports, are left as they were";
  }

  /** What the failure left as it was, for the last error line. */
  readonly kept: string;
}

/**
 * The items of a stream, then — when it ends — an AbortedError if `signal` fired meanwhile: a stream
 * an abort cuts short can end exactly like a finished one (DuckDB's interrupted result gives an empty
 * chunk), and its end must not be taken for the whole.
 */
export async function* untilEnded<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  for await (const item of source) {
    throwIfAborted(signal);
    yield item;
  }
  throwIfAborted(signal);
}

/**
 * Resolves or rejects with `p`, or rejects with AbortedError as soon as the signal fires (p is left
 * to settle unobserved).
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
