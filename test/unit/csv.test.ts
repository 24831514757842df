import { parse } from 'csv-parse/sync';
import type { IdFacts } from '../../src/domain.js';
import { PARITY_HEADER, type ParityRow } from '../../src/report/columns.js';
import {
  guardCell,
  renderMissingHeader,
  renderMissingRows,
  renderParityCsv,
  unguardCell,
} from '../../src/report/csv.js';
import { idFacts } from '../support/builders.js';

/** A strict RFC 4180 reader: no stray quotes, every row as wide as the header. */
const strict = (text: string): string[][] =>
  parse(text, { relax_quotes: false, relax_column_count: false, record_delimiter: '\r\n', bom: false });

const facts: IdFacts = idFacts({ inProxy: true, accepted: true });

const HOSTILE = [
  'a\nb',
  'a\rb',
  'a\r\nb',
  '\n',
  '\r',
  'say "hi"',
  '"',
  'a,b',
  ',',
  '=HYPERLINK("http://x","y")',
  '+1+1',
  '-2+3',
  '@SUM(A1)',
  '\tx',
  '\rx',
  "'=x",
  "''",
  "'",
  'plain',
  ' padded ',
  '<script>alert(1)</script>',
];

function parityRow(over: Partial<Record<string, string | number | null>>): ParityRow {
  const row = Object.fromEntries(PARITY_HEADER.map((c) => [c, null])) as unknown as ParityRow;
  return Object.assign(row, over);
}

describe('CSV rendering', () => {
  it('quotes every field holding a CR, an LF, a quote or a comma, so a strict RFC 4180 reader gets each id back', () => {
    const text =
      renderMissingHeader() +
      renderMissingRows(
        '2025-03-09',
        HOSTILE.map((requestId) => ({ site: 'US', requestId, facts })),
        { formulaGuard: false },
      );
    const rows = strict(text);
    expect(rows).toHaveLength(HOSTILE.length + 1);
    expect(rows.slice(1).map((r) => r[2])).toEqual(HOSTILE);
    expect(rows.every((r) => r.length === 6)).toBe(true);
  });

  it('the formula guard prefixes text starting with = + - @ TAB CR NUL or an apostrophe, and stripping one apostrophe recovers it', () => {
    for (const id of HOSTILE) {
      const cell = guardCell(id);
      expect(unguardCell(cell)).toBe(id);
      expect(/^[=+\-@\t\r]/.test(cell)).toBe(false);
    }
    expect(guardCell('=1+1')).toBe("'=1+1");
    expect(guardCell('\0=HYPERLINK("http://x")')).toBe('\'\0=HYPERLINK("http://x")');
    expect(unguardCell(guardCell('\0=1'))).toBe('\0=1');
    expect(guardCell("'=x")).toBe("''=x");
    expect(guardCell("'")).toBe("''");
    expect(guardCell('abc')).toBe('abc');
    expect(guardCell('')).toBe('');
  });

  it('guards request ids in the missing list by default and round-trips every one', () => {
    const rows = strict(
      renderMissingHeader() +
        renderMissingRows(
          '2025-03-09',
          HOSTILE.map((requestId) => ({ site: 'US', requestId, facts })),
        ),
    );
    const cells = rows.slice(1).map((r) => r[2]!);
    expect(cells.map(unguardCell)).toEqual(HOSTILE);
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(cells).toContain('\'=HYPERLINK("http://x","y")');
  });

  it('guards text columns of the parity report but never a number, such as a negative unexplained', () => {
    const row = parityRow({
      date: '2025-03-09',
      site: 'US',
      unexplained: -9,
      duplicates: 0,
      parity_pct: '90.0000',
      status: 'ERROR',
      error: '=cmd|x',
      status_reason: '-x',
    });
    const [header, values] = strict(renderParityCsv([row]));
    const at = (c: string) => values![header!.indexOf(c)];
    expect(at('unexplained')).toBe('-9');
    expect(at('parity_pct')).toBe('90.0000');
    expect(at('error')).toBe("'=cmd|x");
    expect(at('status_reason')).toBe("'-x");
    const [, raw] = strict(renderParityCsv([row], [], { formulaGuard: false }));
    expect(raw![header!.indexOf('error')]).toBe('=cmd|x');
  });
});
