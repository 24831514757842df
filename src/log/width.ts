import stringWidth from 'string-width';

/**
 * How many terminal columns `s` takes: a wide (East Asian) character two, a combining mark none. Lines cut to a
 * terminal's width are measured so, not in UTF-16 units: a name of 40 wide characters wrapped a table line
 * and left copies of the progress bar on the screen, which redraws only its own row.
 */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

/** `s` cut to `columns` terminal columns, ending `…` when cut; never inside a character or a cluster. Pure. */
export function fitColumns(s: string, columns: number): string {
  if (displayWidth(s) <= columns) return s;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(s)) {
    const w = displayWidth(segment);
    if (used + w > columns - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

/** `s` padded with spaces to `columns` terminal columns. Pure. */
export function padColumns(s: string, columns: number): string {
  return s + ' '.repeat(Math.max(columns - displayWidth(s), 0));
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
