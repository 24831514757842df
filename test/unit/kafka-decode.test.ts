import type { IHeaders, KafkaMessage } from 'kafkajs';
import { headerValue, requestIdDecoder } from '../../src/tiers/kafka-decode.js';

describe('headerValue: a Kafka header as text', () => {
  it('is the last value of a repeated header, decoded as UTF-8, and null when absent or null on the wire', () => {
    expect(headerValue({ 'wm-site-id': Buffer.from('US') }, 'wm-site-id')).toBe('US');
    expect(headerValue({ 'wm-site-id': ['CA', Buffer.from('MX')] }, 'wm-site-id')).toBe('MX');
    expect(headerValue({ 'wm-site-id': '' }, 'wm-site-id')).toBe('');
    expect(headerValue({}, 'wm-site-id')).toBeNull();
    expect(headerValue(undefined, 'wm-site-id')).toBeNull();
    // A header whose value is null (length -1 on the wire) is no value; it threw on .toString before.
    expect(headerValue({ 'wm-site-id': null } as unknown as IHeaders, 'wm-site-id')).toBeNull();
  });
});

describe('requestIdDecoder: bytes that are no UTF-8 are no id', () => {
  const message = (over: Partial<KafkaMessage>): KafkaMessage =>
    ({ key: null, value: null, headers: {}, timestamp: '0', offset: '0', attributes: 0, ...over }) as KafkaMessage;

  it('from the key: two keys that differ only in bad bytes are not one id, and neither is read', () => {
    const read = requestIdDecoder({ from: 'key' });
    expect(read(message({ key: Buffer.from([0x6b, 0xff]) }))).toBeNull();
    expect(read(message({ key: Buffer.from([0x6b, 0xfe]) }))).toBeNull();
    expect(read(message({ key: Buffer.from('k\uFFFD') }))).toBe('k\uFFFD'); // the character itself is UTF-8
    expect(read(message({ key: Buffer.from('r-1') }))).toBe('r-1');
    expect(read(message({ key: Buffer.alloc(0) }))).toBeNull();
  });

  it('from a header: the same, on its last value', () => {
    const read = requestIdDecoder({ from: 'header', name: 'x-request-id' });
    const headers = (v: IHeaders[string]): Partial<KafkaMessage> => ({ headers: { 'x-request-id': v } });
    expect(read(message(headers(Buffer.from([0x7a, 0x80]))))).toBeNull();
    expect(read(message(headers(['r-0', Buffer.from([0x7a, 0x80])])))).toBeNull();
    expect(read(message(headers([Buffer.from([0x7a, 0x80]), Buffer.from('r-2')])))).toBe('r-2');
    expect(read(message(headers('r-3')))).toBe('r-3');
    expect(read(message(headers('')))).toBeNull();
  });
});
