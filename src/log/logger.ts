/** Where the job reports progress and problems; the CLI decides the format (text or JSON lines). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Plain lines on stderr, so that stdout stays for results. */
export function textLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    stream.write(`${level === 'INFO' ? '' : `${level}: `}${message}${fields ? ' ' + JSON.stringify(fields) : ''}\n`);
  return { info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}
