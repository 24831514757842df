import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { objectLines } from '../../src/engine/line-check.js';
import { tempDir } from '../support/files.js';

const MIB = 1 << 20;

async function linesOf(body: Buffer): Promise<(string | null)[]> {
  const file = path.join(await tempDir(), 'a.jsonl');
  await writeFile(file, body);
  const out: (string | null)[] = [];
  for await (const l of objectLines(file)) out.push(l === null ? null : l.length > 100 ? `<${l.length}>` : l);
  return out;
}

describe('objectLines: the exact split of an object into lines', () => {
  it('reads a line over 64 MiB as null wherever it starts in the 1 MiB chunks, and the lines around it as they are', async () => {
    const long = Buffer.alloc(64 * MIB + MIB / 2, 0x61);
    for (const before of ['', 'x'.repeat(0.75 * MIB)]) {
      const body = Buffer.concat([Buffer.from(before ? `${before}\n` : ''), long, Buffer.from('\n{"a":1}\nlast')]);
      const expected = [...(before ? [`<${before.length}>`] : []), null, '{"a":1}', 'last'];
      expect(await linesOf(body)).toEqual(expected);
    }
  });

  it('keeps a line just under 64 MiB whole, split across chunks, CRLF and all', async () => {
    const body = Buffer.concat([
      Buffer.from('\uFEFF{"b":2}\r\n'),
      Buffer.alloc(64 * MIB - 16, 0x62),
      Buffer.from('\n'),
    ]);
    expect(await linesOf(body)).toEqual(['{"b":2}\r', `<${64 * MIB - 16}>`]);
  });
});
