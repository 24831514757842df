import { oneLine } from '../../log/logger.js';
/**
 * HTML-escapes text and attribute values (double- and single-quoted). A character a reader cannot see is shown
 * as the logs show it (oneLine): a bidi override (U+202E) in an object's name would show it reversed, as another
 * name; a control character (a line break in a name too), a zero-width one; and a backslash as `\\`, so that a
 * name holding the text `\x0a` reads apart from one holding a line break, as in the logs. Pure.
 */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!).replace(UNSEEN, (c) => oneLine(c));
}
const UNSEEN = /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** An integer with thousands separators; locale-free so the bytes never depend on the machine. */
export function fmt(n: number): string {
  if (!Number.isInteger(n)) return String(n);
  const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${digits}` : digits;
}
