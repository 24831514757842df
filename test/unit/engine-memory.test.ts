import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { engineMemoryLimit, parseCgroupMemoryLimit, readContainerMemoryLimit } from '../../src/engine/memory.js';

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
  });
});
