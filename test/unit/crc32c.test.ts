import { randomBytes } from 'node:crypto';
import { CRC32C } from '@google-cloud/storage';
import { nativeCrc32cGenerator } from '../../src/storage/crc32c.js';

describe('the native CRC32C the storage client checks downloads with', () => {
  it('gives the standard check value', () => {
    const v = nativeCrc32cGenerator();
    v.update(Buffer.from('123456789'));
    expect(v.toString()).toBe(Buffer.from('e3069283', 'hex').toString('base64'));
    expect(v.validate(Buffer.from('e3069283', 'hex').toString('base64'))).toBe(true);
    expect(v.validate('AAAAAA==')).toBe(false);
  });

  it("equals the client's own over bodies in chunks of any size, empty ones included", () => {
    for (let round = 0; round < 50; round++) {
      const [mine, theirs] = [nativeCrc32cGenerator(), new CRC32C()];
      const chunks = Array.from({ length: 1 + (round % 7) }, (_, i) =>
        randomBytes(((round * 7919 + i * 104729) % 70000) * (i % 3)),
      );
      for (const chunk of chunks) {
        mine.update(chunk);
        theirs.update(chunk);
      }
      expect(mine.toString()).toBe(theirs.toString());
      expect(mine.validate(theirs.toString())).toBe(true);
    }
  });
});
