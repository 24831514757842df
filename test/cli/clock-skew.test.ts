import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCsv, runCli, tempDir, writeConfig, writeNdjson } from '../support/files.js';

const DAY = '2025-03-09';
const BEFORE = '2025-03-08';
const record = (rid: string, status?: number) => ({
  timestamp: `${DAY}T00:00:05Z`,
  request_id: rid,
  site: 'US',
  ...(status ? { status } : {}),
});

/** A day whose one landed record lies in the folder of the UTC date before it, as a writer ahead of time leaves it. */
async function skewedDay(dir: string): Promise<void> {
  await writeNdjson(path.join(dir, `proxy/dt=${DAY}/a.jsonl`), [record('a', 200)]);
  await writeNdjson(path.join(dir, `landed/dt=${BEFORE}/a.jsonl`), [record('a')]);
}

const tiers = (clockSkewDays?: number) => ({
  proxy: { locations: ['proxy/dt={date}/'] },
  gcs: { locations: ['landed/dt={date}/'], ...(clockSkewDays === undefined ? {} : { clockSkewDays }) },
});

describe('the folder before a day', () => {
  it('is not read by default: a record cannot be written before it happened, and no warning names it', async () => {
    const dir = await tempDir();
    await skewedDay(dir);
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US'], tiers: tiers() });
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    const us = parseCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8')).find((r) => r.site === 'US');
    expect(us).toMatchObject({ proxy_requests: '1', gcs_records: '0' });
    expect(run.stderr).not.toContain(`dt=${BEFORE}`);
  });

  it('is read with tiers.<tier>.clockSkewDays: 1, and the record counts for its own day', async () => {
    const dir = await tempDir();
    await skewedDay(dir);
    const out = path.join(dir, 'out');
    const config = await writeConfig(dir, { sites: ['US'], tiers: tiers(1) });
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', out]);
    expect(run.code).toBe(0);
    const us = parseCsv(await readFile(path.join(out, `parity-${DAY}.csv`), 'utf8')).find((r) => r.site === 'US');
    expect(us).toMatchObject({ proxy_requests: '1', gcs_records: '1', status: 'PASS' });
  });

  describe('a record in the folder of the day before its own (a log rotated a second late) counts the same in every run', () => {
    // a2 happened on DAY but lies in BEFORE's proxy folder; BEFORE's a1 and DAY's b1 landed, a2 never did.
    async function rotatedLate(dir: string): Promise<void> {
      const at = (day: string, time: string, rid: string, status?: number) => ({
        ...record(rid, status),
        timestamp: `${day}T${time}Z`,
      });
      await writeNdjson(path.join(dir, `proxy/dt=${BEFORE}/a.jsonl`), [
        at(BEFORE, '23:59:59', 'a1', 200),
        at(DAY, '00:00:01', 'a2', 200),
      ]);
      await writeNdjson(path.join(dir, `landed/dt=${BEFORE}/a.jsonl`), [at(BEFORE, '23:59:59', 'a1')]);
      await writeNdjson(path.join(dir, `proxy/dt=${DAY}/b.jsonl`), [at(DAY, '10:00:00', 'b1', 200)]);
      await writeNdjson(path.join(dir, `landed/dt=${DAY}/b.jsonl`), [at(DAY, '10:00:00', 'b1')]);
    }
    // The day alone; with the day before; with two days before (batches of two days: [07, 08] then [09]); cached.
    const runs = [
      ['--date', DAY],
      ['--from', BEFORE, '--to', DAY],
      ['--from', '2025-03-07', '--to', DAY],
    ];

    async function reportsOf(clockSkewDays: number) {
      const dir = await tempDir();
      await rotatedLate(dir);
      const skewed = { proxy: { ...tiers().proxy, clockSkewDays }, gcs: { ...tiers().gcs, clockSkewDays } };
      const plain = await writeConfig(dir, { sites: ['US'], tiers: skewed });
      const cache = { location: path.join(dir, 'cache') };
      const cached = await writeConfig(dir, { sites: ['US'], tiers: skewed, cache }, 'cached.json');
      const out: { day: string; before: string | null }[] = [];
      for (const [i, config] of [plain, plain, plain, cached, cached].entries()) {
        const o = path.join(dir, `out-${i}`);
        const run = await runCli(['reconcile', '--config', config, ...runs[i % 3]!, '--out', o]);
        expect([0, 1]).toContain(run.code);
        const read = (d: string) => readFile(path.join(o, `parity-${d}.csv`), 'utf8').catch(() => null);
        out.push({ day: (await read(DAY))!, before: await read(BEFORE) });
      }
      return out;
    }

    it("by default (clockSkewDays 0): out of window on its folder's day, counted on no other", async () => {
      const reports = await reportsOf(0);
      for (const r of reports) expect(r.day).toBe(reports[0]!.day);
      const us = parseCsv(reports[0]!.day).find((r) => r.site === 'US');
      expect(us).toMatchObject({ proxy_requests: '1', proxy_accepted: '1', gcs_records: '1', status: 'PASS' });
      const befores = reports.map((r) => r.before).filter((b) => b !== null);
      expect(befores).toHaveLength(3);
      for (const b of befores) expect(b).toBe(befores[0]);
      const before = parseCsv(befores[0]!).find((r) => r.site === 'US');
      expect(before).toMatchObject({ proxy_requests: '1', proxy_out_of_window: '1', status: 'PASS' });
    });

    it('with clockSkewDays 1: counted for its own day, missing, in every run', async () => {
      const reports = await reportsOf(1);
      for (const r of reports) expect(r.day).toBe(reports[0]!.day);
      const us = parseCsv(reports[0]!.day).find((r) => r.site === 'US');
      expect(us).toMatchObject({ proxy_requests: '2', proxy_accepted: '2', gcs_records: '1', status: 'FAIL' });
      for (const b of reports.map((r) => r.before).filter((x) => x !== null))
        expect(parseCsv(b).find((r) => r.site === 'US')).toMatchObject({
          proxy_requests: '1',
          proxy_out_of_window: '0',
        });
    });
  });

  it('a clockSkewDays above 1 is a config error naming the key (exit 2)', async () => {
    const dir = await tempDir();
    const config = await writeConfig(dir, { sites: ['US'], tiers: tiers(2) });
    const run = await runCli(['reconcile', '--config', config, '--date', DAY, '--out', path.join(dir, 'out')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('tiers.gcs.clockSkewDays');
  });
});
