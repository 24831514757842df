// Who holds an output's lease, and how a run that finds one in place meets it: take it over, wait, or refuse.
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, OutputError } from '../errors.js';
import { processGone } from '../folders.js';

/** Who holds a lease: written into it, and named to a run that finds it taken. */
export interface LeaseHolder {
  pid: number;
  host: string;
  /** The host name and pid namespace (machine()): where `pid` means this process. */
  machine: string;
  command: string;
  /** When the run started, ISO-8601 UTC. */
  started: string;
  /** This lease's own random token: tells our lease from another's with the same pid and host. */
  token: string;
}

export interface LeaseOptions {
  /** A lease not renewed for this long is stale: its run is gone (or frozen) and another may take it. */
  staleMs?: number;
  /** How often a held lease is renewed. */
  renewMs?: number;
  /** Told when the run waits for a lease whose renewal is overdue to go stale. */
  onWait?: (message: string) => void;
  signal?: AbortSignal;
}

const STALE_MS = 2 * 60_000;
export const RENEW_MS = 30_000;

/**
 * How a lease found in place, last renewed at `renewedAt`, is met; `seen`: the renewal this run saw at its
 * previous look, if any. This machine's: its pid tells at once whether its run is gone (and a live pid on a
 * lease nobody renewed for `staleMs` is another process's now, or a frozen run's, which confirm() stops before it
 * writes again). Another's: taken over when stale; waited for when a renewal is overdue; and, seen for the first
 * time renewed lately, watched until its next renewal is due: a pod killed moments ago (OOM, a lost node) leaves
 * a fresh lease, and the Job's retry, some seconds later, waits it out instead of failing. Refused only when it
 * was renewed while this run watched, or is fresh on this machine.
 */
export async function meet(
  other: Partial<LeaseHolder> | null,
  holder: LeaseHolder,
  renewedAt: number,
  options: LeaseOptions,
  seen?: number,
): Promise<'stale' | 'held' | 'again'> {
  const staleMs = options.staleMs ?? STALE_MS;
  const renewMs = options.renewMs ?? RENEW_MS;
  const age = Date.now() - renewedAt;
  if (sameMachine(other, holder)) return processGone(other!.pid!, renewedAt) || age > staleMs ? 'stale' : 'held';
  const describe = () => describeHolder(other, renewedAt);
  if (age > staleMs) return 'stale';
  if (age <= renewMs * 1.5) {
    if (seen !== undefined) return 'held'; // renewed since this run last looked: its run is alive
    const wait = renewMs * 1.5 - age + 1000;
    options.onWait?.(
      `waiting up to ${Math.ceil(wait / 1000)} s to see whether the run holding the lease still renews it: ` +
        describe(),
    );
    return pause(wait, options.signal);
  }
  options.onWait?.(
    `waiting up to ${Math.ceil((staleMs - age) / 1000)} s for a lease whose renewal is overdue: ${describe()}`,
  );
  return pause(staleMs - age + 1000, options.signal);
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<'again'> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch {
    throw new AbortedError();
  }
  return 'again';
}

export function leaseHolder(command: string, started: string): LeaseHolder {
  return {
    pid: process.pid,
    host: os.hostname(),
    machine: machine(),
    command,
    started,
    token: randomBytes(8).toString('hex'),
  };
}

export function describeHolder(h: Partial<LeaseHolder> | null, since: number): string {
  if (!h) return `a run whose lease cannot be read (renewed ${ago(since)})`;
  const who = `pid ${String(h.pid)} on ${String(h.host)}, ${String(h.command)}`;
  return `${who}, started ${String(h.started)}, renewed ${ago(since)}`;
}

const ago = (ms: number): string => `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago`;

export function parseHolder(text: string): Partial<LeaseHolder> | null {
  try {
    const h = JSON.parse(text) as Partial<LeaseHolder>;
    return typeof h === 'object' && h !== null ? h : null;
  } catch {
    return null;
  }
}

export function taken(where: string, flag: string, holder: string): OutputError {
  return new OutputError(
    where,
    'EBUSY',
    `another run is writing its reports there (${holder}); two runs writing one ${flag} at once would mix ` +
      `their reports — wait for it to end, or give this run a ${flag} of its own`,
    { kept: 'nothing was read or written' },
  );
}

export function lost(where: string, flag: string): OutputError {
  return new OutputError(
    where,
    'EBUSY',
    `this run's lease on ${flag} was taken over by another run (this one had not renewed it for a while: ` +
      "stopped or frozen), so its remaining days are not written over that run's",
    { kept: "the days it had written keep this run's reports; the rest are as the other run leaves them" },
  );
}

/**
 * This machine as a lease names it: its host name and its pid namespace, so that two containers sharing a
 * host name (host networking) but not their pids are two machines, whose pids mean nothing to each other.
 */
function machine(): string {
  try {
    return `${os.hostname()} ${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return os.hostname();
  }
}

/** Whether a lease's holder ran on this machine, where its pid can be checked. */
function sameMachine(other: Partial<LeaseHolder> | null, holder: LeaseHolder): boolean {
  return other?.machine === holder.machine && other?.host === holder.host && typeof other?.pid === 'number';
}
