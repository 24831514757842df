// Where a job's reports go, checked before anything is read: never a folder a file tier lists (as written or as the
// file system resolves it), and, for --dry-run, one that could hold them, found without writing anything.
import path from 'node:path';
import type { JobOptions } from '../src/cli.js';
import { type Config, parseLocation } from '../src/config.js';
import { UsageError } from '../src/errors.js';
import { realPlace } from '../src/folders.js';
import { listsFolder, type ParsedLocation } from '../src/locations.js';
import { outputFolderProblem } from '../src/report/writer.js';

/** The flag of the local folder the reports are written to: --out, or --local-out beside a gs:// --out. */
export const outFlag = (opts: JobOptions): string => (opts.out.startsWith('gs://') ? '--local-out' : '--out');

/** The local folder the reports are written to. */
export const outFolder = (opts: JobOptions): string => (opts.out.startsWith('gs://') ? opts.localOut : opts.out);

/**
 * Exit 2 naming the flag when --out (or --local-out) is inside a folder a file tier lists: the tier would read the
 * run's manifests (.json) as records, more each run. Compared as written and as the file system resolves both (a
 * symlink), so that a link cannot slip past (a link to a day folder made the reports, and the lease, land there).
 */
export async function refuseOutInsideTiers(opts: JobOptions, config: Config): Promise<void> {
  const given: [string, string][] = [[outFlag(opts), outFolder(opts)]];
  if (opts.out.startsWith('gs://')) given.push(['--out', opts.out]);
  const locations = [...(config.tiers.proxy?.locations ?? []), ...(config.tiers.gcs?.locations ?? [])];
  const real = async (l: ParsedLocation): Promise<ParsedLocation> =>
    l.scheme === 'file' ? { ...l, template: await realPlace(l.template) } : l;
  for (const [flag, value] of given) {
    const place = parseLocation(value.startsWith('gs://') ? value : path.resolve(value), '/');
    const realOut = await real(place);
    for (const l of locations) {
      if (listsFolder(l, place) || listsFolder(await real(l), realOut))
        throw new UsageError(flag, `"${value}" is inside ${l.keyPath}: the tier would read the reports as records`);
    }
  }
}

/** --dry-run's check of the reports' folder: what the run would refuse, found without writing anything. */
export async function checkOutForPlan(opts: JobOptions, config: Config): Promise<void> {
  await refuseOutInsideTiers(opts, config);
  const out = outFolder(opts);
  const problem = await outputFolderProblem(out);
  if (problem) throw new UsageError(outFlag(opts), `"${out}" cannot hold the reports: ${problem}`);
}
