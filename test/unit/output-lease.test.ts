import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OutputError } from '../../src/errors.js';
import { acquireLocalLease, LEASE_NAME, leaseHolder } from '../../src/storage/output-lease.js';

const folder = () => mkdtemp(path.join(os.tmpdir(), 'parity-test-lease-'));

/** A pid no process has: one that has just ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/** A holder as another machine's run writes it: its pid cannot be checked from here. */
const elsewhere = (command: string) => ({ ...leaseHolder(command, 'x'), host: 'elsewhere' });

async function writeLease(dir: string, holder: object, mtime?: Date): Promise<void> {
  await writeFile(path.join(dir, LEASE_NAME), JSON.stringify(holder));
  if (mtime) await utimes(path.join(dir, LEASE_NAME), mtime, mtime);
}

describe('the lease on a local reports folder', () => {
  it('is taken whole, refused to a second run while held, and gone once released', async () => {
    const dir = await folder();
    const lease = await acquireLocalLease(dir, leaseHolder('daily', '2025-03-10T05:30:00.000Z'), '--out');
    const held = JSON.parse(await readFile(path.join(dir, LEASE_NAME), 'utf8')) as Record<string, unknown>;
    expect(held).toMatchObject({ pid: process.pid, host: os.hostname(), command: 'daily' });
    const second = acquireLocalLease(dir, leaseHolder('reconcile', '2025-03-10T06:00:00.000Z'), '--out');
    await expect(second).rejects.toBeInstanceOf(OutputError);
    await expect(second).rejects.toThrow(
      new RegExp(
        `another run is writing its reports there \\(pid ${process.pid} on .*, daily, started 2025-03-10T05:30`,
      ),
    );
    await expect(lease.confirm()).resolves.toBeUndefined();
    await lease.release();
    // Nothing left behind: no lease, no temporary file.
    expect(await readdir(dir)).toEqual([]);
    const again = await acquireLocalLease(dir, leaseHolder('reconcile', 'x'), '--out');
    await again.release();
  });

  it('takes over a lease whose run is gone (its pid, on this host) or that nobody renewed for staleMs', async () => {
    const dir = await folder();
    await writeLease(dir, { ...leaseHolder('daily', 'x'), pid: deadPid() });
    const first = await acquireLocalLease(dir, leaseHolder('reconcile', 'x'), '--out');
    await first.release();
    // Another host's run: its pid means nothing here, so only the renewal's age tells it is gone.
    const old = new Date(Date.now() - 11 * 60_000);
    await writeLease(dir, { pid: process.ppid, host: 'elsewhere', command: 'daily', started: 'x', token: 't' }, old);
    const second = await acquireLocalLease(dir, leaseHolder('reconcile', 'x'), '--out');
    await second.release();
    // Another host's lease renewed lately, and again while this run watches it: its run is alive.
    const renewing = await acquireLocalLease(dir, elsewhere('daily'), '--out', { renewMs: 50 });
    await expect(acquireLocalLease(dir, leaseHolder('reconcile', 'x'), '--out', { renewMs: 50 })).rejects.toThrow(
      /pid \d+ on elsewhere/,
    );
    await renewing.release();
    // A lease that cannot be read is held until it is stale too.
    await writeFile(path.join(dir, LEASE_NAME), '{"pi');
    const unreadable = setInterval(() => void utimes(path.join(dir, LEASE_NAME), new Date(), new Date()), 50);
    try {
      await expect(acquireLocalLease(dir, leaseHolder('reconcile', 'x'), '--out', { renewMs: 50 })).rejects.toThrow(
        /cannot be read/,
      );
    } finally {
      clearInterval(unreadable);
    }
    // This machine's lease whose pid is alive but that nobody renewed for staleMs: the pid is another process's
    // now (reused after a kill -9) or a frozen run's, which confirm() stops. Before 0.3.7 it was held for ever.
    await writeLease(dir, { ...leaseHolder('daily', 'x'), pid: process.ppid }, old);
    const third = await acquireLocalLease(dir, leaseHolder('reconcile', 'x'), '--out');
    await third.release();
  });

  it("watches another machine's fresh lease until its renewal is due: a pod killed moments ago is waited out", async () => {
    const dir = await folder();
    // Renewed just now by a run that was then killed (OOM, a lost node): the Job's retry comes seconds later.
    await writeLease(dir, { pid: 7, host: 'pod-1', command: 'daily', started: 'x', token: 't' });
    const waits: string[] = [];
    const started = Date.now();
    const lease = await acquireLocalLease(dir, leaseHolder('daily', 'y'), '--out', {
      staleMs: 300,
      renewMs: 100,
      onWait: (m) => waits.push(m),
    });
    // Before 0.3.7 it was refused at once (exit 5), though nothing held it any more.
    // (It waits a renewal and a second; past staleMs by then, the lease is taken over without a second wait.)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(waits).toEqual([
      expect.stringMatching(/^waiting up to \d+ s to see whether the run holding the lease still renews it: pid 7/),
    ]);
    // Renewed as it is taken, not as old as the wait (before 0.3.7 the link kept the mtime of a file written before
    // it: another run took the lease over before its first renewal).
    const { mtimeMs } = await stat(path.join(dir, LEASE_NAME));
    expect(Date.now() - mtimeMs).toBeLessThan(250);
    await lease.release();
  });

  it("a run whose lease another took over (it stopped renewing: frozen) writes no more days, and leaves the other's", async () => {
    const dir = await folder();
    // Another machine's run (on this one a live pid holds its lease however long it is frozen).
    const frozen = await acquireLocalLease(dir, elsewhere('reconcile'), '--out', { staleMs: 50 });
    await new Promise((r) => setTimeout(r, 100));
    const other = await acquireLocalLease(dir, leaseHolder('daily', 'y'), '--out', { staleMs: 50 });
    await expect(frozen.check()).rejects.toThrow(/lease on --out was taken over by another run/);
    await expect(frozen.confirm()).rejects.toThrow(/lease on --out was taken over by another run/);
    await frozen.release();
    expect(await readFile(path.join(dir, LEASE_NAME), 'utf8')).toContain('"command":"daily"');
    await expect(other.confirm()).resolves.toBeUndefined();
    await other.release();
  });

  it('waits for a lease whose renewal is overdue (a pod killed on another machine) to go stale, then takes it', async () => {
    const dir = await folder();
    await writeLease(
      dir,
      { pid: 7, host: 'pod-1', command: 'daily', started: 'x', token: 't' },
      new Date(Date.now() - 200),
    );
    const waits: string[] = [];
    const started = Date.now();
    const lease = await acquireLocalLease(dir, leaseHolder('daily', 'y'), '--out', {
      staleMs: 400,
      renewMs: 100,
      onWait: (m) => waits.push(m),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(waits).toEqual([
      expect.stringMatching(/^waiting up to \d+ s for a lease whose renewal is overdue: pid 7 on pod-1, daily/),
    ]);
    await lease.release();
  });

  it("another machine's lease with this host name (host networking, another pid namespace) is judged by its renewals", async () => {
    const dir = await folder();
    // A pid that is alive here means nothing: the lease names another pid namespace.
    await writeLease(dir, { ...leaseHolder('daily', 'x'), pid: deadPid(), machine: `${os.hostname()} pid:[1]` });
    const file = path.join(dir, LEASE_NAME);
    const renewing = setInterval(() => void utimes(file, new Date(), new Date()), 50);
    try {
      await expect(acquireLocalLease(dir, leaseHolder('reconcile', 'y'), '--out', { renewMs: 50 })).rejects.toThrow(
        /another run is writing/,
      );
    } finally {
      clearInterval(renewing);
    }
  });

  it('renews a held lease, so that a long run is never taken for a stale one', async () => {
    const dir = await folder();
    const lease = await acquireLocalLease(dir, elsewhere('backfill'), '--out', { staleMs: 300, renewMs: 50 });
    await new Promise((r) => setTimeout(r, 600));
    await expect(
      acquireLocalLease(dir, leaseHolder('daily', 'y'), '--out', { staleMs: 300, renewMs: 50 }),
    ).rejects.toThrow(/backfill/);
    await lease.release();
  });
});
