import { isUtf8 } from 'node:buffer';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { jsonFieldText } from './kafka-json.js';

/** Where a message's request id is: its key, a header, or a field of its JSON value. */
export type RequestIdSource =
  | { from: 'key' }
  | { from: 'header'; name: string }
  | { from: 'value'; field: string /* dotted path in the JSON value */ };

/** Reads a message's request id from where `source` says it is; null when it has none readable. */
export function requestIdDecoder(source: RequestIdSource): (m: KafkaMessage) => string | null {
  switch (source.from) {
    case 'key':
      return (m) => (m.key && m.key.length > 0 ? m.key.toString('utf8') : null);
    case 'header':
      return (m) => headerValue(m.headers, source.name) || null;
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
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}
