import { readFile } from 'node:fs/promises';

const MIB = 1024 * 1024;
/**
 * The engine's share of the container's memory when engine.memoryLimit is not set: the rest is Node, the GCS client and
 * download buffers (the bench measured about 300 MiB of those on a 2,000,000-event day).
 */
export const ENGINE_SHARE_OF_CONTAINER = 0.5;
/** Below this DuckDB spills so much that a day crawls: never ask for less. */
export const MIN_ENGINE_MEMORY_BYTES = 256 * MIB;
/** Without a container limit (a laptop, a VM): what the engine held before it was derived. */
export const DEFAULT_ENGINE_MEMORY_BYTES = 512 * MIB;
/** cgroup v2, then v1: where a container's memory limit is read. */
export const CGROUP_MEMORY_LIMIT_FILES = [
  '/sys/fs/cgroup/memory.max',
  '/sys/fs/cgroup/memory/memory.limit_in_bytes',
] as const;
/** cgroup v1 writes "no limit" as a number near 2^63, rounded to the page size. */
const NO_LIMIT_ABOVE_BYTES = 2 ** 60;

export interface EngineMemory {
  /** DuckDB's memory_limit, e.g. "512MiB". */
  limit: string;
  /** Where the figure came from, for the log. */
  source: 'config' | 'container' | 'default';
  /** The container's limit in bytes, when one was found. */
  containerBytes: number | null;
  /** Engines that share the container at once (backfill --concurrency N: N lanes), when more than one. */
  engines?: number;
  /** The container's share was below MIN_ENGINE_MEMORY_BYTES, and the engine takes that floor instead. */
  floored?: boolean;
}

/**
 * The embedded engine's memory limit: the configured one, else half the container's limit shared by the
 * `engines` that run in it at once (at least 256 MiB each), else 512 MiB. Pure.
 */
export function engineMemoryLimit(
  configured: string | undefined,
  containerBytes: number | null,
  engines = 1,
): EngineMemory {
  if (configured) return { limit: configured, source: 'config', containerBytes };
  if (containerBytes === null)
    return { limit: `${DEFAULT_ENGINE_MEMORY_BYTES / MIB}MiB`, source: 'default', containerBytes };
  const share = Math.floor((containerBytes * ENGINE_SHARE_OF_CONTAINER) / engines);
  const bytes = Math.max(MIN_ENGINE_MEMORY_BYTES, share);
  return {
    limit: `${Math.floor(bytes / MIB)}MiB`,
    source: 'container',
    containerBytes,
    ...(engines > 1 ? { engines } : {}),
    ...(share < MIN_ENGINE_MEMORY_BYTES ? { floored: true } : {}),
  };
}

/** How the run's log says where the engine's memory limit came from; a warning when the container is too small. */
export function describeEngineMemory(memory: EngineMemory): { source: string; warning?: string } {
  if (memory.source === 'config') return { source: 'engine.memoryLimit' };
  if (memory.source === 'default') return { source: 'default: no container limit found' };
  const mib = Math.round(memory.containerBytes! / MIB);
  const shared = memory.engines ? `, shared by ${memory.engines} engines (backfill --concurrency)` : '';
  if (!memory.floored) return { source: `half the container's ${mib} MiB limit${shared}` };
  const floor = MIN_ENGINE_MEMORY_BYTES / MIB;
  return {
    source: `the engine's floor: half the container's ${mib} MiB limit${shared} is below ${floor} MiB`,
    warning:
      `engine: the container's ${mib} MiB limit is too small: the engine takes its floor of ${floor}MiB` +
      `${memory.engines ? ` ${memory.engines} times` : ''}, leaving too little to Node beside it, and the pod may be ` +
      `killed out of memory; give it at least ${2 * floor * (memory.engines ?? 1)} MiB, or set engine.memoryLimit`,
  };
}

/** Parses a cgroup memory limit file's text: bytes, or null for "max" and v1's "no limit". Pure. */
export function parseCgroupMemoryLimit(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n > 0 && n < NO_LIMIT_ABOVE_BYTES ? n : null;
}

/** The container's memory limit from the first cgroup file that exists, or null when there is none. */
export async function readContainerMemoryLimit(
  files: readonly string[] = CGROUP_MEMORY_LIMIT_FILES,
): Promise<number | null> {
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch {
      continue; // not this cgroup version, or no cgroup filesystem: try the next
    }
    return parseCgroupMemoryLimit(text);
  }
  return null;
}
