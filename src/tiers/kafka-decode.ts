import { isUtf8 } from 'node:buffer';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { jsonFieldText } from '../engine/kafka-json.js';

/** Where a message's request id is: its key, a header, or a field of its JSON value. */
export type RequestIdSource =
  | { from: 'key' }
  | { from: 'header'; name: string }
  | { from: 'value'; field: string /* dotted path in the JSON value */ };

/**
 * Reads a message's request id from where `source` says it is; null when it has none readable. Bytes
 * that are no UTF-8 are no id, wherever they are: decoded, each bad byte would become U+FFFD, so two
 * different ids could read as one (and as a proxy id of that text), where the file tiers read such a
 * line as malformed.
 */
export function requestIdDecoder(source: RequestIdSource): (m: KafkaMessage) => string | null {
  switch (source.from) {
    case 'key':
      return (m) => (m.key && m.key.length > 0 && isUtf8(m.key) ? m.key.toString('utf8') : null);
    case 'header':
      return (m) => {
        const raw = lastHeader(m.headers, source.name);
        if (raw === undefined || raw === null) return null;
        if (typeof raw !== 'string' && !isUtf8(raw)) return null;
        return raw.toString() || null;
      };
    case 'value': {
      // As the file tiers read the same field of the same record (the sink writes the value as a line).
      const path = source.field.split('.');
      return (m) => {
        if (!m.value || m.value.length === 0) return null;
        // A value that is not UTF-8 is a landed line DuckDB reads as a row of NULLs.
        if (!isUtf8(m.value)) return null;
        return jsonFieldText(m.value.toString('utf8'), path) || null;
      };
    }
  }
}

/**
 * A header's value as text, null when absent. Keys are case-sensitive, as in Kafka. A header sent
 * several times takes its last value, as Kafka's `Headers.lastHeader` (and so Kafka Connect) does.
 */
export function headerValue(headers: IHeaders | undefined, name: string): string | null {
  const value = lastHeader(headers, name);
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}

function lastHeader(headers: IHeaders | undefined, name: string): Buffer | string | undefined | null {
  const raw = headers?.[name];
  return Array.isArray(raw) ? raw[raw.length - 1] : raw;
}
