/** Where the job reports progress and problems; the CLI decides the format (text or JSON lines). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * `s` on one line: each control character (a newline, an escape sequence in an object name from the logs)
 * as `\xNN`, so that text from the data can neither forge a line nor drive the terminal.
 */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Plain lines on stderr, so that stdout stays for results; each message on its one line. */
export function textLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const line = (level: string) => (message: string) =>
    stream.write(`${level === 'INFO' ? '' : `${level}: `}${oneLine(message)}\n`);
  return { info: line('INFO'), warn: line('WARNING'), error: line('ERROR') };
}

/**
 * One JSON object a line with `severity` and `message`, the fields Cloud Logging reads from a
 * container's output. Fields are the job's own counts and names: never credentials, never records.
 */
export function jsonLogger(
  stream: NodeJS.WritableStream = process.stderr,
  clock: () => Date = () => new Date(),
): Logger {
  const line = (severity: string) => (message: string, fields?: Record<string, unknown>) =>
    stream.write(JSON.stringify({ severity, time: clock().toISOString(), message, ...fields }) + '\n');
  return { info: line('INFO'), warn: line('WARNING'), error: line('ERROR') };
}

/**
 * A one-line progress bar over the days of a run, redrawn in place on a terminal; the label (the
 * last day's summary) is cut to the terminal's width, since a wrapped line cannot be redrawn.
 */
export function progressBar(
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): { tick(label: string): void; resize(total: number): void; around(write: () => void): void; done(): void } {
  let n = 0;
  const width = 30;
  let drawn = '';
  return {
    tick(label: string) {
      n++;
      const filled = Math.min(width, Math.round((width * n) / Math.max(total, 1)));
      const columns = (stream.columns > 0 ? stream.columns : 80) - 1;
      const line = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${n}/${total} days  ${label}`;
      drawn = `\r${(line.length > columns ? `${line.slice(0, columns - 1)}…` : line).padEnd(columns)}`;
      stream.write(drawn);
    },
    /** A log line written while the bar is drawn: on a line of its own, the bar drawn again below it. */
    around(write: () => void) {
      if (drawn) stream.write('\r\x1b[2K');
      write();
      if (drawn) stream.write(drawn);
    },
    resize(days: number) {
      total = days;
    },
    done() {
      if (n > 0) stream.write('\n');
    },
  };
}
