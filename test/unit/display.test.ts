import { buildAlert } from '../../src/alerts/webhook.js';
import { jsonLogger, oneLine, progressBar, textLogger } from '../../src/log/logger.js';
import { displayWidth, fitColumns } from '../../src/log/width.js';
import { PARITY_HEADER, type ParityRow } from '../../src/report/columns.js';
import { esc } from '../../src/report/html/escape.js';
import { renderSummaryTable, summarizeDay } from '../../src/report/summary.js';

// Object names come from whoever can write the buckets: each of these is a name an operator must read as it is.
const RLO = '\u202e'; // right-to-left override: shows what follows reversed
const WIDE = '\u5bbd'.repeat(40); // 40 East Asian wide characters, 80 terminal columns
const HOSTILE = [
  `part-${RLO}zg.lnosj.2sue-0000`, // reads as part-0000-eus2.jsonl.gz in a bidi-aware viewer
  'a\u2028b\u2029c\u200bd\u2066e\u061cf\ufeffg', // line and paragraph separators, zero-width and isolates
  'esc-\x1b[31mred\x1b]8;;http://x\x07link\r\nforged',
  'literal-\\x1b[31m', // the text \x1b, not the escape
  `lone-\ud800-half`,
  `${WIDE}.jsonl.gz`,
];

function row(over: Record<string, string | number | null>): ParityRow {
  const r = Object.fromEntries(PARITY_HEADER.map((c) => [c, null])) as unknown as ParityRow;
  return Object.assign(r, over);
}
const errorDay = (name: string): ParityRow[] =>
  ['US', 'ALL'].map((site) =>
    row({ date: '2025-03-04', site, proxy_requests: 5, status: 'ERROR', error: `gcs: gs://b/${name}: not valid gzip` }),
  );
/** Nothing a terminal, a browser or a chat would act on or hide: no control, format or separator character. */
const VISIBLE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]*$/u;

describe('oneLine', () => {
  it.each(HOSTILE)('shows every character of %j as visible text on one line', (name) => {
    expect(oneLine(name)).toMatch(VISIBLE);
  });

  it('names each hidden character by its code, and a backslash as \\\\, so that no two names read alike', () => {
    expect(oneLine(HOSTILE[0]!)).toBe('part-\\u{202e}zg.lnosj.2sue-0000');
    expect(oneLine(HOSTILE[1]!)).toBe('a\\u{2028}b\\u{2029}c\\u{200b}d\\u{2066}e\\u{061c}f\\u{feff}g');
    expect(oneLine('esc-\x1b[31m')).toBe('esc-\\x1b[31m');
    expect(oneLine('literal-\\x1b[31m')).toBe('literal-\\\\x1b[31m');
    expect(new Set(HOSTILE.map(oneLine)).size).toBe(HOSTILE.length);
    expect(oneLine('\ud83d\ude00 ok')).toBe('\ud83d\ude00 ok'); // a whole pair is a character
  });
});

describe('the logs', () => {
  it('write a hostile name escaped once, the same in text and JSON lines, never its characters', () => {
    const text: string[] = [];
    const json: string[] = [];
    for (const name of HOSTILE) {
      textLogger({ write: (s: string) => text.push(s) } as unknown as NodeJS.WritableStream).error(`gcs: ${name}`);
      jsonLogger({ write: (s: string) => json.push(s) } as unknown as NodeJS.WritableStream).error(`gcs: ${name}`);
    }
    expect(text).toHaveLength(HOSTILE.length);
    for (const [i, line] of text.entries()) {
      expect(line).toBe(`ERROR: gcs: ${oneLine(HOSTILE[i]!)}\n`);
      // `jq -r .message` prints the JSON line's message: it must be the text line's, not the raw name
      expect(JSON.parse(json[i]!).message).toBe(`gcs: ${oneLine(HOSTILE[i]!)}`);
    }
  });
});

describe('terminal width', () => {
  it('measures wide characters as two columns and cuts between characters, never inside one', () => {
    expect(displayWidth(WIDE)).toBe(80);
    expect(fitColumns(WIDE, 10)).toBe(`${'\u5bbd'.repeat(4)}…`);
    expect(displayWidth(fitColumns(WIDE, 10))).toBeLessThanOrEqual(10);
    expect(fitColumns('ab\ud83d\ude00cd', 4)).toBe('ab…');
    expect(fitColumns('short', 10)).toBe('short');
  });

  it('keeps every progress tick within the terminal, so that it redraws in place', () => {
    for (const name of HOSTILE) {
      const writes: string[] = [];
      const bar = progressBar(3, {
        columns: 100,
        write: (s: string) => writes.push(s),
      } as unknown as NodeJS.WriteStream);
      bar.tick(`2025-03-04 ${summarizeDay(errorDay(name)).text}`);
      expect(writes[0]!.startsWith('\r')).toBe(true);
      expect(displayWidth(writes[0]!.slice(1))).toBe(99);
      expect(writes[0]!.slice(1)).toMatch(VISIBLE);
    }
  });

  it('keeps every line of the summary table within its width, hostile names shown escaped', () => {
    for (const width of [60, 100, 200]) {
      const table = renderSummaryTable(
        HOSTILE.map((name, i) => ({ day: `2025-03-0${i + 1}`, rows: errorDay(name) })),
        { width },
      );
      const lines = table.trimEnd().split('\n');
      expect(lines).toHaveLength(HOSTILE.length + 3);
      for (const line of lines) {
        expect(displayWidth(line)).toBeLessThanOrEqual(width);
        expect(line).toMatch(VISIBLE);
      }
    }
  });
});

describe('the HTML and the alert', () => {
  it('show a hidden character by its code', () => {
    expect(esc(`<b>${HOSTILE[0]}</b>\n`)).toBe('&lt;b&gt;part-\\u{202e}zg.lnosj.2sue-0000&lt;/b&gt;\\x0a');
    expect(esc('a\x1b[2Jb\u2028c')).toBe('a\\x1b[2Jb\\u{2028}c');
    // The text "\x0a" and a line break read apart, as in the logs.
    expect(esc('a\\x0a')).toBe('a\\\\x0a');
    expect(esc('a\n')).toBe('a\\x0a');
    for (const name of HOSTILE) expect(esc(name)).toMatch(VISIBLE);
  });

  it('write a hostile name as the log does, Slack markup escaped after it', () => {
    for (const name of HOSTILE) {
      const alert = buildAlert([{ day: '2025-03-04', rows: errorDay(`<!channel>${name}`) }], ['ERROR'], 'gs://r/');
      const line = alert!.text.split('\n')[1]!;
      expect(line).toBe(
        `• 2025-03-04: ERROR: US: gcs: gs://b/&lt;!channel&gt;${oneLine(name)}: not valid gzip (ALL no parity)`,
      );
    }
  });
});
