/**
 * jest's globalSetup and globalTeardown (temp-folder-setup.mjs, temp-folder-teardown.mjs): the run's temp
 * folder (TMPDIR, which os.tmpdir() and every process the tests start read) is a folder of its own, removed
 * when the run ends. The tests' folders, the CLI's scratch and the emulators' temporary files were left in
 * /tmp before: 18,000 folders of up to 104 MB and 1.7 GB of SQLite files on one machine, until its disk was
 * full.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const KEY = 'PARITY_TEST_RUN_TMPDIR';

export function makeRunTempFolder() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parity-run-'));
  // As /tmp is (mkdtemp makes it 0700): the deploy test runs the image as its own user, below this folder.
  chmodSync(dir, 0o1777);
  process.env[KEY] = dir;
  process.env.TMPDIR = dir;
}

export function removeRunTempFolder() {
  const dir = process.env[KEY];
  if (dir) rmSync(dir, { recursive: true, force: true });
}
