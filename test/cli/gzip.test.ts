import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
import { logLines, parseCsv, reconcileUsDay, runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

// The engine reads .gz objects itself and takes a cut one for a shorter file; these are the cuts the
// check beside it must still catch, each for an object that would otherwise count some of its lines.

const DAY = '2025-03-09';
const proxyLine = (rid: string) => ({ timestamp: `${DAY}T10:00:00Z`, request_id: rid, site: 'US', status: 200 });
const landedLine = (rid: string) => JSON.stringify({ timestamp: `${DAY}T10:00:00Z`, request_id: rid, site: 'US' });
const text = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => landedLine(`x${from + i}`)).join('\n') + '\n';

/** A gzip header (no name, no flags): what precedes the deflate stream. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** Writes the day's proxy records (ids x0…x{n-1}) and the landed gzip object; runs the day. */
async function runWith(landedGzip: Buffer, proxied: number) {
  const dir = await tempDir();
  await writeNdjson(
    path.join(dir, `proxy/dt=${DAY}/a.jsonl`),
    Array.from({ length: proxied }, (_, i) => proxyLine(`x${i}`)),
  );
  await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
  const object = path.join(dir, `landed/dt=${DAY}/part-0.jsonl.gz`);
  await writeFile(object, landedGzip);
  const out = path.join(dir, 'out');
  const run = await reconcileUsDay(dir, DAY, out);
  const parity = parseCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'));
  return { run, parity, object };
}

async function expectRejected(landedGzip: Buffer, proxied: number): Promise<void> {
  const { run, parity, object } = await runWith(landedGzip, proxied);
  expect(run.code).toBe(3);
  expect(run.stderr).toContain(`${object}: not valid gzip`);
  // Nothing of the object is counted: the day's landed tier is ERROR with no figure, naming it.
  expect(parity.every((r) => r.status === 'ERROR' && r.gcs_records === '' && r.error!.includes(object))).toBe(true);
  expect(parity.find((r) => r.site === 'US')).toMatchObject({ proxy_requests: String(proxied) });
  // The day's log line says there is no parity, not "ALL parity -% missing -" (before 0.3.7).
  expect(logLines(run.stderr).map((l) => l.message)).toContainEqual(
    expect.stringMatching(new RegExp(`^${DAY}: ERROR: .* — ALL no parity$`)),
  );
}

describe('gzip objects are read in place and checked whole', () => {
  it('a gzip cut in the middle of a line exits 3 naming the object, counting none of it', async () => {
    const whole = gzipSync(text(0, 2000));
    await expectRejected(whole.subarray(0, Math.floor(whole.length / 2)), 2000);
  });

  it('a gzip cut exactly after a line (its text so far whole) exits 3 naming the object', async () => {
    // The first 1000 lines as deflate blocks flushed to a byte boundary: the file a writer cut there leaves.
    const head = deflateRawSync(text(0, 1000), { finishFlush: constants.Z_SYNC_FLUSH });
    await expectRejected(Buffer.concat([GZIP_HEADER, head]), 1000);
  });

  it('a gzip without its CRC and length trailer exits 3 naming the object', async () => {
    const whole = gzipSync(text(0, 500));
    await expectRejected(whole.subarray(0, whole.length - 8), 500);
  });

  it('a multi-member gzip whose second member is cut exits 3 naming the object', async () => {
    const second = gzipSync(text(500, 1000));
    await expectRejected(Buffer.concat([gzipSync(text(0, 500)), second.subarray(0, second.length - 20)]), 1000);
  });

  it('a whole multi-member gzip counts the lines of every member', async () => {
    const { run, parity } = await runWith(Buffer.concat([gzipSync(text(0, 300)), gzipSync(text(300, 700))]), 700);
    expect(run.code).toBe(0);
    expect(parity.find((r) => r.site === 'US')).toMatchObject({
      proxy_requests: '700',
      gcs_records: '700',
      status: 'PASS',
    });
  });

  it('a gzip padded with zero bytes after its last member counts every line, as gzip and zcat read it', async () => {
    // The engine's gzip reader fails the whole read on padding, naming no file: those objects are found
    // and read line by line. Two padded objects among whole ones, read uncached and into the cache.
    const dir = await tempDir();
    await writeNdjson(
      path.join(dir, `proxy/dt=${DAY}/a.jsonl`),
      Array.from({ length: 800 }, (_, i) => proxyLine(`x${i}`)),
    );
    await mkdir(path.join(dir, `landed/dt=${DAY}`), { recursive: true });
    const objects: [string, Buffer][] = [
      ['part-0.jsonl.gz', Buffer.concat([gzipSync(text(0, 300)), Buffer.alloc(512)])],
      ['part-1.jsonl.gz', gzipSync(text(300, 600))],
      ['part-2.jsonl.gz', Buffer.concat([gzipSync(text(600, 700)), gzipSync(text(700, 750)), Buffer.alloc(1)])],
      ['part-3.jsonl', Buffer.from(text(750, 800))],
    ];
    for (const [name, bytes] of objects) await writeFile(path.join(dir, `landed/dt=${DAY}`, name), bytes);
    for (const [name, extra] of [
      ['plain', {}],
      ['cached', { cache: { location: path.join(dir, 'cache') } }],
    ] as const) {
      const out = path.join(dir, `out-${name}`);
      const config = await writeConfig(dir, { sites: ['US'], ...extra }, `${name}.json`);
      const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
      expect(run.code).toBe(0);
      const parity = parseCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8'));
      expect(parity.find((r) => r.site === 'US')).toMatchObject({
        proxy_requests: '800',
        gcs_records: '800',
        gcs_malformed: '0',
        status: 'PASS',
      });
      // Each padded object is named for what it has (no long or broken line), the whole ones not at all.
      for (const part of ['part-0', 'part-2'])
        expect(run.stderr).toContain(`${part}.jsonl.gz has bytes after its gzip data (zero padding)`);
      expect(run.stderr).not.toContain('part-1.jsonl.gz has');
      expect(run.stderr).not.toContain('could not be read whole');
    }
  });
});
