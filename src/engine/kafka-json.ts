/**
 * A field of a Kafka message's JSON value as text, exactly as the file tiers read the same field of the
 * same record (DuckDB's read_ndjson, column type VARCHAR): the GCS sink writes each message's value as a
 * line, and the ids read from both must be the same text. JSON.parse alone differs from it:
 * - a duplicated key: DuckDB takes the first, JSON.parse the last;
 * - a number: DuckDB keeps an integer's digits (`12345678901234567890`, past 2^53 where a JavaScript
 *   number is no longer exact) and writes a fraction or an exponent as a double, the shortest form
 *   that reads back, fixed from 1e-4 to below 1e16 with at least one decimal (`1.0`, `1000.0` for
 *   `1e3`), else with an exponent of at least two digits (`1e+16`, `2.5e-07`), and a double out of
 *   range as written (`1e400`);
 * - `true`/`false` are their text, NaN and infinities as written, an object or array its compact JSON;
 * - DuckDB reads a line with NaN, an infinity or a trailing comma, and none with half a surrogate pair.
 * Pure; tested against DuckDB itself (test/unit/kafka-json.test.ts).
 */

/** The field at `path` (keys of nested objects) of the JSON text, as DuckDB reads it as VARCHAR; null when none. */
export function jsonFieldText(value: string, path: readonly string[]): string | null {
  const text = asLine(value);
  if (text === null || !readable(text)) return null; // DuckDB reads an invalid line as a row of NULLs
  let at = skipWs(text, 0);
  let end = skipValue(text, at);
  for (const key of path) {
    if (text[at] !== '{') return null;
    const found = member(text, at, key);
    if (!found) return null;
    [at, end] = found;
  }
  return rendered(text.slice(at, end));
}

/**
 * The JSON text a strict parser takes (BigQuery's JSON functions) for a value DuckDB's reader takes: NaN and an
 * infinity as strings of their text as written (the text jsonFieldText gives for them), a trailing comma
 * dropped; the value as it is when it is plain JSON; null when DuckDB's reader takes it not (no JSON: compared
 * with nothing in either engine). The BigQuery engine loads this, so that one NaN in a field nobody compares no
 * longer hides every compared field of its message there. Pure.
 */
export function strictJson(value: string): string | null {
  const text = asLine(value);
  if (text === null || !readable(text)) return null;
  try {
    JSON.parse(text);
    return text;
  } catch {
    // NaN, an infinity or a trailing comma: standardised below
  }
  let standard = '';
  for (const [token] of text.matchAll(TOKENS))
    standard +=
      token[0] === '"'
        ? token
        : token.replace(
            NON_FINITE,
            (word: string, before: string) => `${before}${JSON.stringify(word.slice(before.length))}`,
          );
  return withoutTrailingCommas(standard);
}

/** The value as the sink writes it, a line: none with a newline (written out, several lines, none the record); the
 * line reader takes vertical tabs and form feeds at either end for blanks, as JSON's own whitespace. */
function asLine(value: string): string | null {
  return value.includes('\n') ? null : value.replace(/^[ \t\r\v\f]+|[ \t\r\v\f]+$/g, '');
}

const WS = new Set([' ', '\t', '\n', '\r']);

/** A string token, a run of anything else, or a quote that opens no string (which JSON.parse refuses). */
const TOKENS = /"(?:[^"\\]|\\.)*"|[^"]+|"/g;
/** A literal that is no number: NaN or an infinity (a number holds only digits, signs, a point and e). */
const nonFinite = (token: string): boolean => /[^-+.\deE]/.test(token);
/** NaN and infinity as DuckDB's JSON reader takes them: a word of its own, any case, an optional minus. */
const NON_FINITE = /(^|[\s,:[])-?(nan|inf|infinity)(?=$|[\s,\]}])/gi;
/** An escape of a surrogate: half of a pair, or a whole pair's half. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** Half a surrogate pair, which no UTF-8 text can hold. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A comma after a value and before the end of its object or array, which DuckDB's reader allows. */
const TRAILING_COMMA = /(?<=[^\s,[{]\s*),(?=\s*[}\]])/g;

/**
 * The text with each trailing comma dropped: one after a value and before the end of its object or array, found
 * outside strings only (a string's own `,]` stays: it is text), and each of a run (`[1,],}`) found, as the lookbehind
 * and lookahead consume nothing. Pure.
 */
function withoutTrailingCommas(text: string): string {
  // Strings masked with a letter of the same length: their commas are no JSON's, and their quotes end a value.
  const masked = text.replace(STRINGS, (s) => `"${'x'.repeat(s.length - 2)}"`);
  const drop = new Set([...masked.matchAll(TRAILING_COMMA)].map((m) => m.index));
  if (drop.size === 0) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) if (!drop.has(i)) out += text[i];
  return out;
}
const STRINGS = /"(?:[^"\\]|\\.)*"/g;

/**
 * Whether DuckDB's JSON reader takes the text: what JSON.parse takes, and also NaN and infinities, and a
 * trailing comma; but no string with half a surrogate pair (`\ud800` alone).
 */
function readable(text: string): boolean {
  // Most values: plain JSON, with no \uD800-\uDFFF escape that could be half a pair.
  try {
    JSON.parse(text);
    if (!SURROGATE_ESCAPE.test(text)) return true;
  } catch {
    // NaN, an infinity, a trailing comma: standardised below, or no JSON at all
  }
  let standard = '';
  for (const [token] of text.matchAll(TOKENS)) {
    if (token[0] === '"') {
      let decoded: unknown;
      try {
        decoded = JSON.parse(token);
      } catch {
        return false;
      }
      if (LONE_SURROGATE.test(decoded as string)) return false;
      standard += token;
    } else standard += token.replace(NON_FINITE, '$10');
  }
  // A trailing comma follows a value: the end of a string token, a literal, or a closed object or array.
  standard = withoutTrailingCommas(standard);
  try {
    JSON.parse(standard);
    return true;
  } catch {
    return false;
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i]!)) i++;
  return i;
}

/** Past the string token starting at `i` (a quote). */
function skipString(s: string, i: number): number {
  for (i++; s[i] !== '"'; i++) if (s[i] === '\\') i++;
  return i + 1;
}

/** Past the value token starting at `i`: a string, an object or array (brackets counted outside strings), or a literal. */
function skipValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return skipString(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (; i < s.length; i++) {
      const ch = s[i];
      if (ch === '"') i = skipString(s, i) - 1;
      else if (ch === '{' || ch === '[') depth++;
      else if ((ch === '}' || ch === ']') && --depth === 0) return i + 1;
    }
    return i;
  }
  let j = i;
  while (j < s.length && !WS.has(s[j]!) && s[j] !== ',' && s[j] !== '}' && s[j] !== ']') j++;
  return j;
}

/** The first member named `key` of the object starting at `i`: its value's [start, end). */
function member(s: string, i: number, key: string): [number, number] | null {
  i = skipWs(s, i + 1);
  while (s[i] === '"') {
    const keyEnd = skipString(s, i);
    const name = JSON.parse(s.slice(i, keyEnd)) as string;
    const start = skipWs(s, skipWs(s, keyEnd) + 1); // past the colon
    const end = skipValue(s, start);
    if (name === key) return [start, end];
    i = skipWs(s, end);
    if (s[i] !== ',') return null;
    i = skipWs(s, i + 1);
  }
  return null;
}

function rendered(token: string): string | null {
  const c = token[0];
  if (c === '"') return JSON.parse(token) as string;
  if (token === 'null') return null;
  if (token === 'true' || token === 'false') return token;
  if (c === '{' || c === '[') return compact(token);
  if (nonFinite(token)) return token; // as written
  return numberText(token);
}

/**
 * An object or array as DuckDB writes it as text (its JSON library's writer): no whitespace, every member
 * kept (a repeated key too), strings as JSON.stringify writes them, numbers as in jsonNumber.
 */
function compact(s: string): string {
  let out = '';
  for (let i = 0; i < s.length;) {
    const c = s[i]!;
    if (WS.has(c)) i++;
    else if (c === '"') {
      const end = skipString(s, i);
      // JSON.stringify escapes a control character in lower-case hex, DuckDB in upper case.
      out += JSON.stringify(JSON.parse(s.slice(i, end))).replace(
        /\\u00([0-9a-f]{2})/g,
        (_, h: string) => `\\u00${h.toUpperCase()}`,
      );
      i = end;
    } else if (c === ',' && '}]'.includes(s[skipWs(s, i + 1)] ?? '')) {
      i++; // a trailing comma
    } else if ('{}[],:'.includes(c)) {
      out += c;
      i++;
    } else {
      const end = skipValue(s, i);
      const token = s.slice(i, end);
      out += /^[-\d]/.test(token) ? jsonNumber(token) : token;
      i = end;
    }
  }
  return out;
}

/** A number inside an object or array as DuckDB's JSON writer gives it: see jsonFieldText. */
function jsonNumber(token: string): string {
  if (nonFinite(token)) return token; // as written
  if (!/[.eE]/.test(token)) return token === '-0' ? '0' : token;
  const value = Number(token);
  if (!Number.isFinite(value)) return token;
  const text = Object.is(value, -0) ? '-0' : String(value).replace('e+', 'e');
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** A JSON number token as DuckDB writes it as VARCHAR (see above). */
export function numberText(token: string): string {
  if (!/[.eE]/.test(token)) return BigInt(token).toString();
  const value = Number(token);
  if (!Number.isFinite(value)) return token;
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  // The shortest digits that read back, and the decimal exponent: d.ddd × 10^exp.
  const [mantissa, expText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = value < 0 ? '-' : '';
  if (exp >= -4 && exp < 16) {
    const point = exp + 1; // digits before the decimal point
    const whole = point <= 0 ? '0' : digits.slice(0, point).padEnd(point, '0');
    const fraction = point <= 0 ? '0'.repeat(-point) + digits : digits.slice(point);
    return `${sign}${whole}.${fraction || '0'}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${head}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}
