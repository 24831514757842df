import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  describeEngineMemory,
  engineMemoryLimit,
  parseCgroupMemoryLimit,
  readContainerMemoryLimit,
} from '../../src/engine/memory.js';

const MIB = 1024 * 1024;

async function cgroupFile(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cgroup-'));
  const file = path.join(dir, 'memory.max');
  await writeFile(file, text);
  return file;
}

describe('the engine memory limit', () => {
  it('is half the container limit read from a cgroup v2 file when engine.memoryLimit is not set', async () => {
    const file = await cgroupFile('1073741824\n');
    const bytes = await readContainerMemoryLimit([file]);
    expect(bytes).toBe(1024 * MIB);
    expect(engineMemoryLimit(undefined, bytes)).toEqual({
      limit: '512MiB',
      source: 'container',
      containerBytes: 1024 * MIB,
    });
    expect(engineMemoryLimit(undefined, 3 * 1024 * MIB).limit).toBe('1536MiB');
  });

  it('reads cgroup v1 when v2 is absent, and treats "max" and v1\'s huge value as no limit', async () => {
    const missing = path.join(os.tmpdir(), 'no-such-cgroup-dir', 'memory.max');
    const v1 = await cgroupFile('2147483648');
    expect(await readContainerMemoryLimit([missing, v1])).toBe(2048 * MIB);
    expect(await readContainerMemoryLimit([await cgroupFile('max\n')])).toBeNull();
    expect(parseCgroupMemoryLimit('9223372036854771712')).toBeNull();
    expect(await readContainerMemoryLimit([missing])).toBeNull();
    expect(engineMemoryLimit(undefined, null)).toEqual({ limit: '512MiB', source: 'default', containerBytes: null });
  });

  it('never goes below 256 MiB, and a configured limit always wins', () => {
    expect(engineMemoryLimit(undefined, 300 * MIB).limit).toBe('256MiB');
    expect(engineMemoryLimit('2GiB', 1024 * MIB)).toMatchObject({ limit: '2GiB', source: 'config' });
    expect(engineMemoryLimit('2GiB', 1024 * MIB, 4)).toMatchObject({ limit: '2GiB', source: 'config' });
  });

  it("shares the container's half among the engines that run at once (backfill --concurrency)", () => {
    // Before 0.3.7 each of two lanes took half the container: the whole of it between them.
    expect(engineMemoryLimit(undefined, 3072 * MIB, 2)).toMatchObject({ limit: '768MiB', engines: 2 });
    expect(describeEngineMemory(engineMemoryLimit(undefined, 3072 * MIB, 2))).toEqual({
      source: "half the container's 3072 MiB limit, shared by 2 engines (backfill --concurrency)",
    });
    expect(describeEngineMemory(engineMemoryLimit(undefined, 3072 * MIB))).toEqual({
      source: "half the container's 3072 MiB limit",
    });
  });

  it('says when the floor, not half the container, decided, and warns that the container is too small', () => {
    // Before 0.3.7 the log said "256MiB (half the container's 300 MiB limit)": 85 % of it.
    expect(describeEngineMemory(engineMemoryLimit(undefined, 300 * MIB))).toEqual({
      source: "the engine's floor: half the container's 300 MiB limit is below 256 MiB",
      warning:
        "engine: the container's 300 MiB limit is too small: the engine takes its floor of 256MiB, leaving too " +
        'little to Node beside it, and the pod may be killed out of memory; give it at least 512 MiB, or set ' +
        'engine.memoryLimit',
    });
    expect(describeEngineMemory(engineMemoryLimit(undefined, 1024 * MIB, 3)).warning).toMatch(
      /floor of 256MiB 3 times, .* at least 1536 MiB/,
    );
    expect(describeEngineMemory(engineMemoryLimit('300MiB', 400 * MIB))).toEqual({ source: 'engine.memoryLimit' });
  });
});
