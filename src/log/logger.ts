import { fitColumns, padColumns } from './width.js';

/** Where the job reports progress and problems; the CLI decides the format (text or JSON lines). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * `s` on one line, every character shown for what it is: a control character (a newline, an escape sequence in an
 * object name from the logs) as `\xNN`; an invisible formatting or separator character (a bidi override such as
 * U+202E, which shows a name reversed; U+2028, a line break to many log viewers; a zero-width space) or half a
 * surrogate pair as `\u{NNNN}`; and a backslash as `\\`, so that a name holding the text `\x1b` reads apart from
 * one holding the escape. Text from the data can neither forge a line, drive the terminal nor pose as another
 * name. Apply it once, where text is shown (a log line, the table, the bar, an alert): it is not idempotent.
 */
export function oneLine(s: string): string {
  return s.replace(UNSEEN, (c) => {
    if (c === '\\') return '\\\\';
    const n = c.codePointAt(0)!;
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16).padStart(4, '0')}}`;
  });
}
const UNSEEN = /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

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
    // The message as the text log shows it (so that `jq -r .message` replays no escape); names a machine needs
    // whole travel in fields of their own (`object`).
    stream.write(
      JSON.stringify({ severity, time: clock().toISOString(), message: oneLine(message), ...fields }) + '\n',
    );
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
      const line = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${n}/${total} days  ${oneLine(label)}`;
      drawn = `\r${padColumns(fitColumns(line, columns), columns)}`;
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
