import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PARITY_COLUMNS } from '../../src/report/columns.js';
import { ROOT } from '../support/files.js';

describe('the README', () => {
  it("defines every parity column exactly as the code documents it, in the report's order", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const rows = PARITY_COLUMNS.map(([name, doc]) => `| \`${name}\` | ${doc} |`);
    for (const r of rows) expect(readme).toContain(r);
    const at = rows.map((r) => readme.indexOf(r));
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });

  it('lists every status and says NO_DATA exits 1', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    for (const s of ['PASS', 'WARN', 'NO_DATA', 'FAIL', 'ERROR']) expect(readme).toContain(`| \`${s}\` |`);
    expect(readme).toMatch(/\| 1 \| at least one row is FAIL .* or NO_DATA/);
  });
});
