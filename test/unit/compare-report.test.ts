import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { ALL_SITES, PARITY_HEADER, type ParityRow } from '../../src/domain.js';
import { differingPaths, withContentMismatch } from '../../src/engine/compare.js';
import { renderMismatchCsv, renderParityCsv } from '../../src/report/csv.js';
import { type DayReports, type MismatchRow, writeDayReports } from '../../src/report/day-writer.js';
import { parseParityCsv } from '../../src/report/parity-reader.js';
import { tempDir } from '../support/files.js';

const DAY = '2025-03-09';
const row = (site: string, over: Partial<ParityRow> = {}): ParityRow =>
  ({
    ...Object.fromEntries(PARITY_HEADER.map((c) => [c, null])),
    date: DAY,
    site,
    status: 'PASS',
    ...over,
  }) as ParityRow;
const HOSTILE = [
  '=HYPERLINK("http://x")',
  '+1+1',
  '@sum',
  'a,b',
  'two\nlines',
  '"quoted"',
  '<script>alert(1)</script>',
];

describe('content_mismatch and mismatch-DAY.csv', () => {
  it('puts content_mismatch after every other column, the kafka_<region> ones included, empty when not compared', () => {
    const rows = [row('US', { content_mismatch: 2, regions: { EUS2: 5 } }), row(ALL_SITES, { regions: { EUS2: 5 } })];
    const [header, us, all] = renderParityCsv(rows, ['EUS2']).split('\r\n');
    expect(header!.split(',').slice(-3)).toEqual(['volume_drop', 'kafka_eus2', 'content_mismatch']);
    expect(us!.split(',').slice(-2)).toEqual(['5', '2']);
    expect(all!.split(',').slice(-2)).toEqual(['5', '']);
  });

  it('reads content_mismatch back from a parity file, and nothing from an older file without the column', () => {
    const rows = [row('US', { content_mismatch: 3 }), row(ALL_SITES, { content_mismatch: 3 })];
    expect(parseParityCsv(renderParityCsv(rows), [], true).map((r) => r.content_mismatch)).toEqual([3, 3]);
    const older = renderParityCsv([row('US')])
      .replace(/,content_mismatch\r\n/, '\r\n')
      .replace(/,\r\n/g, '\r\n');
    expect(parseParityCsv(older, [], true).map((r) => 'content_mismatch' in r)).toEqual([false]);
  });

  it("counts each site's mismatches, 0 where none, ALL the sum of the rows above; empty everywhere when the day was not compared whole", () => {
    const rows = [row('US'), row('CA'), row('UNKNOWN'), row(ALL_SITES)];
    const counts = [
      { day: DAY, site: 'US', ids: 2 },
      { day: DAY, site: 'UNKNOWN', ids: 1 },
      { day: '2025-03-08', site: 'CA', ids: 7 },
    ];
    expect(withContentMismatch(rows, counts, DAY, true).map((r) => r.content_mismatch)).toEqual([2, 0, 1, 3]);
    expect(withContentMismatch(rows, counts, DAY, false).map((r) => r.content_mismatch)).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });

  it('names the differing fields in config order whatever order the engine gives the indexes in', () => {
    expect(differingPaths([2, 0], ['body.amount', 'user.id', 'body.note'])).toEqual(['body.amount', 'body.note']);
    expect(differingPaths(null, ['a'])).toEqual([]);
  });

  it('writes hostile request ids quoted (RFC 4180) and formula-guarded, and back byte for byte without the guard', () => {
    const ids = HOSTILE.map((requestId) => ({ site: 'US', requestId, fields: ['body.amount', 'user.id'] }));
    const guarded = parse(renderMismatchCsv(DAY, ids, { formulaGuard: true }, true), {
      columns: true,
      record_delimiter: '\r\n',
    }) as Record<string, string>[];
    expect(guarded).toEqual(
      ids.map((m) => ({
        date: DAY,
        site: 'US',
        request_id: /^[=+\-@]/.test(m.requestId) ? `'${m.requestId}` : m.requestId,
        fields: 'body.amount;user.id',
      })),
    );
    const raw = parse(renderMismatchCsv(DAY, ids, { formulaGuard: false }, true), {
      columns: true,
      record_delimiter: '\r\n',
    }) as Record<string, string>[];
    expect(raw.map((r) => r.request_id)).toEqual(HOSTILE);
  });

  describe('written with the day', () => {
    const reports = (dir: string, mismatches: DayReports['mismatches']): DayReports => ({
      day: DAY,
      rows: [row('US'), row(ALL_SITES)],
      regions: [],
      missingIds: async function* () {},
      listComplete: true,
      ...(mismatches !== undefined ? { mismatches } : {}),
      sites: ['US'],
      csv: { formulaGuard: true },
      zone: 'UTC',
      run: { asOf: '2025-03-10T00:00:00Z', version: 't', revision: null, configHash: 'h', command: 'reconcile' },
      batchStarted: Date.now(),
    });
    const list = (rows: MismatchRow[]) => () =>
      (async function* () {
        yield rows.slice(0, 1);
        yield rows.slice(1);
      })();

    it('writes mismatch-DAY.csv, chunk by chunk, and lists it in the manifest with its sha256', async () => {
      const dir = await tempDir();
      const rows = [
        { site: 'US', requestId: 'a', fields: ['user.id'] },
        { site: 'US', requestId: '=b', fields: ['body.amount', 'user.id'] },
      ];
      const summary = await writeDayReports(dir, reports(dir, list(rows)), undefined);
      const text = await readFile(path.join(dir, `mismatch-${DAY}.csv`), 'utf8');
      expect(text).toBe(`date,site,request_id,fields\r\n${DAY},US,a,user.id\r\n${DAY},US,'=b,body.amount;user.id\r\n`);
      expect(summary.mismatchFile).toBe(path.join(dir, `mismatch-${DAY}.csv`));
      const manifest = JSON.parse(await readFile(path.join(dir, `manifest-${DAY}.json`), 'utf8')) as {
        files: { mismatch: { name: string; sha256: string } };
      };
      expect(manifest.files.mismatch.name).toBe(`mismatch-${DAY}.csv`);
      expect(manifest.files.mismatch.sha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it('writes the header only when nothing differs', async () => {
      const dir = await tempDir();
      await writeDayReports(dir, reports(dir, list([])), undefined);
      expect(await readFile(path.join(dir, `mismatch-${DAY}.csv`), 'utf8')).toBe('date,site,request_id,fields\r\n');
    });

    it('removes a stale mismatch file, and says null in the manifest, when the day was not compared whole', async () => {
      const dir = await tempDir();
      await writeFile(path.join(dir, `mismatch-${DAY}.csv`), 'stale');
      const summary = await writeDayReports(dir, reports(dir, null), undefined);
      expect(await readdir(dir)).not.toContain(`mismatch-${DAY}.csv`);
      expect(summary.mismatchFile).toBeNull();
      const manifest = JSON.parse(await readFile(path.join(dir, `manifest-${DAY}.json`), 'utf8')) as {
        files: Record<string, unknown>;
      };
      expect(manifest.files.mismatch).toBeNull();
    });

    it('without compare writes no mismatch file and no manifest key', async () => {
      const dir = await tempDir();
      await writeDayReports(dir, reports(dir, undefined), undefined);
      expect(await readdir(dir)).not.toContain(`mismatch-${DAY}.csv`);
      const manifest = JSON.parse(await readFile(path.join(dir, `manifest-${DAY}.json`), 'utf8')) as {
        files: Record<string, unknown>;
      };
      expect('mismatch' in manifest.files).toBe(false);
    });
  });
});
