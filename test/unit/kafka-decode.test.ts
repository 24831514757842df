import type { IHeaders } from 'kafkajs';
import { headerValue } from '../../src/tiers/kafka-decode.js';

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
