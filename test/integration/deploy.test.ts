/**
 * The deployment files, checked without a Docker engine or a cluster:
 * - the Dockerfile's final stage is parsed and its install and start steps are replayed in a clean
 *   copy of the package (production dependencies only, read-only code, writes only to the mapped
 *   /tmp and /reports), so the image's steps and this test cannot drift apart;
 * - every document of cron.yaml is validated against the Kubernetes schemas of `kubernetes-models`,
 *   field names checked strictly (as `kubectl apply --validate=strict` would), and its config
 *   against our own validator.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseConfig } from '../../src/config.js';
import { engineMemoryLimit } from '../../src/engine/memory.js';
import { ROOT, tempDir } from '../support/files.js';

// ---------------------------------------------------------------------------------------------
// The Dockerfile, parsed
// ---------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | null;
  steps: Instruction[];
}

/** Instructions in order: continuation lines joined, comments dropped (as Docker does). */
function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && current === '')) continue;
    if (trimmed.endsWith('\\')) {
      current += trimmed.slice(0, -1) + ' ';
      continue;
    }
    current += trimmed;
    const m = /^(\w+)\s+([\s\S]*)$/.exec(current.trim());
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim() });
    current = '';
  }
  return out;
}

/** Stages, with `${ARG}` in FROM resolved from the global ARGs' defaults. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const from = m[1]!.replace(/\$\{?(\w+)\}?/g, (_, name: string) => args[name] ?? '');
      stages.push({ from, name: m[2] ?? null, steps: [] });
    } else if (stages.length === 0 && ins.keyword === 'ARG') {
      const [name, value = ''] = ins.args.split('=');
      args[name!] = value;
    } else if (stages.length > 0) {
      stages.at(-1)!.steps.push(ins);
    }
  }
  return { args, stages };
}

/** ENV k=v k2="v 2" … (the key=value form only). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of stage.steps.filter((x) => x.keyword === 'ENV')) {
    for (const m of s.args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) env[m[1]!] = m[3] ?? m[2]!;
  }
  return env;
}

interface Copy {
  from: string | null;
  sources: string[];
  dest: string;
}

function copyOf(ins: Instruction): Copy {
  const words = ins.args.split(' ');
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length) ?? null;
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/** The commands of a RUN, split at `&&`. */
const commandsOf = (ins: Instruction): string[] => ins.args.split('&&').map((c) => c.trim());

const DOCKERFILE = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const docker = parseDockerfile(DOCKERFILE);
const buildStage = docker.stages.find((s) => s.name === 'build')!;
const finalStage = docker.stages.at(-1)!;
const jsonArgs = (keyword: string): unknown =>
  JSON.parse(finalStage.steps.filter((s) => s.keyword === keyword).at(-1)!.args);
/** The one production install, exactly as the image runs it. */
const PROD_INSTALL = 'npm ci --omit=dev --ignore-scripts';
const IMAGE_UID = 10001;

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: SpawnOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** This process's environment without jest's NODE_OPTIONS (--experimental-vm-modules). */
function hostEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _, ...env } = process.env;
  return env;
}

/** Every path below `dir` (skipping `skip`), with its size and mtime: to see that nothing was written. */
function snapshot(dir: string, skip: string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (skip.includes(path.relative(dir, p))) continue;
      const st = statSync(p);
      out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('Dockerfile', () => {
  it('builds on glibc Node 20 in two stages and runs as uid 10001 from an exec-form entrypoint', () => {
    expect(docker.stages.map((s) => s.from)).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    const buildRuns = buildStage.steps.filter((s) => s.keyword === 'RUN').flatMap(commandsOf);
    expect(buildRuns.some((c) => c.startsWith('npm ci'))).toBe(true);
    expect(buildRuns).toContain('npm run build');

    const runs = finalStage.steps.filter((s) => s.keyword === 'RUN').flatMap(commandsOf);
    expect(runs.filter((c) => c.startsWith('npm ci'))).toHaveLength(1);
    expect(runs.find((c) => c.startsWith('npm ci'))).toContain(PROD_INSTALL);
    expect(runs.some((c) => c.includes(`--uid ${IMAGE_UID}`))).toBe(true);
    expect(finalStage.steps.filter((s) => s.keyword === 'USER').at(-1)!.args).toMatch(
      new RegExp(`^${IMAGE_UID}(:${IMAGE_UID})?$`),
    );
    expect(jsonArgs('ENTRYPOINT')).toEqual(['node', '/app/dist/jobs/main.js']);
    expect(jsonArgs('CMD')).toEqual(['--help']);
    const env = envOf(finalStage);
    expect(env).toMatchObject({ TMPDIR: '/tmp', NODE_ENV: 'production' });
    expect(['/tmp', '/reports']).toContain(env.HOME);
    // The code is copied from the build stage; only the lockfile and manifest from the context.
    const copies = finalStage.steps.filter((s) => s.keyword === 'COPY').map(copyOf);
    expect(
      copies
        .filter((c) => c.from === 'build')
        .flatMap((c) => c.sources)
        .sort(),
    ).toEqual(['/src/dist', '/src/queries']);
    expect(
      copies
        .filter((c) => c.from === null)
        .flatMap((c) => c.sources)
        .sort(),
    ).toEqual(['package-lock.json', 'package.json']);
    expect(
      finalStage.steps.some((s) => s.keyword === 'LABEL' && s.args.includes('org.opencontainers.image.title')),
    ).toBe(true);
    // No secret is baked in: no credential-looking ENV or ARG.
    const settings = docker.stages.flatMap((s) => s.steps).filter((s) => s.keyword === 'ENV' || s.keyword === 'ARG');
    expect(settings.filter((s) => /PASSWORD|SECRET|TOKEN|_KEY\b|CREDENTIALS/i.test(s.args))).toEqual([]);
  });

  it("replays the image's install and start steps in a clean copy", async () => {
    if (!existsSync(path.join(ROOT, 'dist/jobs/main.js'))) {
      const build = await run('npm', ['run', 'build'], { cwd: ROOT, env: hostEnv() });
      expect(build.code).toBe(0);
    }
    const base = await tempDir('parity-image-');
    chmodSync(base, 0o755);
    const appDir = path.join(base, 'app');
    const tmpDir = path.join(base, 'tmp');
    const reportsDir = path.join(base, 'reports');
    for (const d of [appDir, tmpDir, reportsDir]) mkdirSync(d, { mode: 0o755 });
    // Root here runs the job as the image's user, so that writing anywhere else really fails.
    const asImageUser = process.getuid?.() === 0;
    if (asImageUser) for (const d of [tmpDir, reportsDir]) chownSync(d, IMAGE_UID, IMAGE_UID);

    // Container paths to this machine's: the image's WORKDIR /app, /tmp, /reports, and the build
    // stage's /src, which is this checkout (its dist/ from `npm run build`).
    const mounts: [string, string][] = [
      ['/app', appDir],
      ['/tmp', tmpDir],
      ['/reports', reportsDir],
      ['/src', ROOT],
    ];
    const map = (p: string, workdir: string): string => {
      const abs = path.posix.resolve(workdir, p);
      const mount = mounts.find(([from]) => abs === from || abs.startsWith(`${from}/`));
      if (!mount) throw new Error(`${abs}: not a path this test maps`);
      return path.join(mount[1], abs.slice(mount[0].length));
    };

    // The final stage, step by step.
    let workdir = '/';
    let installed = false;
    for (const step of finalStage.steps) {
      if (step.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, step.args);
      if (step.keyword === 'COPY') {
        const c = copyOf(step);
        for (const src of c.sources) {
          const from = c.from === null ? path.join(ROOT, src) : map(src, '/');
          const to = c.dest.endsWith('/') ? path.join(map(c.dest, workdir), path.basename(src)) : map(c.dest, workdir);
          // A build stage's dist/ holds only tsc's output: leave out what tests cached beside it (.cache/).
          cpSync(from, to, { recursive: true, filter: (s) => !path.basename(s).startsWith('.') || s === from });
        }
      }
      if (step.keyword === 'RUN') {
        for (const cmd of commandsOf(step).filter((x) => x.startsWith('npm ci'))) {
          const [bin, ...args] = cmd.split(' ');
          const r = await run(bin!, args, { cwd: map('.', workdir), env: hostEnv() });
          expect({ cmd, code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ cmd, code: 0, stderr: '' });
          installed = true;
        }
      }
    }
    expect(installed).toBe(true);
    expect(readdirSync(appDir).sort()).toEqual([
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
      'queries',
    ]);

    // Production dependencies only: no devDependency (but one a runtime dependency also needs, as
    // @types/node is by @google-cloud/storage), nor anything else the lockfile marks dev-only.
    const pkg = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      dependencies: Record<string, string>;
    };
    const lock = JSON.parse(readFileSync(path.join(appDir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devDirect = Object.keys(pkg.devDependencies).filter((d) => lock.packages[`node_modules/${d}`]?.dev === true);
    expect(devDirect).toEqual(
      expect.arrayContaining(['typescript', 'jest', 'ts-jest', '@types/jest', 'kubernetes-models']),
    );
    for (const dev of devDirect) {
      expect({ dev, installed: existsSync(path.join(appDir, 'node_modules', dev)) }).toEqual({ dev, installed: false });
    }
    expect(existsSync(path.join(appDir, 'node_modules/.bin/tsc'))).toBe(false);
    const devOnly = Object.entries(lock.packages)
      .filter(([p, e]) => p.startsWith('node_modules/') && e.dev === true)
      .map(([p]) => p);
    expect(devOnly.length).toBeGreaterThan(50);
    expect(devOnly.filter((p) => existsSync(path.join(appDir, p)))).toEqual([]);
    for (const dep of Object.keys(pkg.dependencies))
      expect(existsSync(path.join(appDir, 'node_modules', dep))).toBe(true);
    // Nothing above the copy can lend it a module.
    expect(
      existsSync(path.join(base, 'node_modules')) || existsSync(path.join(path.dirname(base), 'node_modules')),
    ).toBe(false);

    // Start it as the image does: ENTRYPOINT + CMD, the image's ENV, the image's user.
    const image = envOf(finalStage);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const [k, v] of Object.entries(image)) env[k] = v.startsWith('/') ? map(v, '/') : v;
    const [node, cli] = jsonArgs('ENTRYPOINT') as [string, string];
    expect(node).toBe('node');
    if (!asImageUser) chmodSync(appDir, 0o555); // as another user, the code is not writable either
    const start = (args: string[]) =>
      run(process.execPath, [map(cli, '/'), ...args], {
        cwd: appDir,
        env,
        ...(asImageUser ? { uid: IMAGE_UID, gid: IMAGE_UID } : {}),
      });
    const before = snapshot(appDir);
    try {
      const help = await start(jsonArgs('CMD') as string[]);
      expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
      expect(help.stdout).toContain('reconcile');
      expect(help.stdout).toContain('daily');

      const demo = await start(['demo', '--out', map('/reports', '/')]);
      expect({ code: demo.code, stderr: demo.stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      if (!asImageUser) chmodSync(appDir, 0o755);
    }
    const reports = readdirSync(reportsDir);
    const parity = reports.filter((f) => /^parity-\d{4}-\d{2}-\d{2}\.csv$/.test(f));
    expect(parity.length).toBeGreaterThanOrEqual(3);
    expect(reports.filter((f) => /^missing-\d{4}-\d{2}-\d{2}\.csv$/.test(f))).toHaveLength(parity.length);
    const first = readFileSync(path.join(reportsDir, parity[0]!), 'utf8');
    expect(first.startsWith('date,site,proxy_requests,proxy_accepted,rejected_413,rejected_502,rejected_other,')).toBe(
      true,
    );
    if (asImageUser) expect(statSync(path.join(reportsDir, parity[0]!)).uid).toBe(IMAGE_UID);
    // Writes went to /reports and /tmp only: the code is untouched, and the run's scratch is gone.
    expect(snapshot(appDir)).toEqual(before);
    expect(readdirSync(tmpDir).filter((f) => f.startsWith('audit-parity-'))).toEqual([]);
  }, 600_000);
});

// ---------------------------------------------------------------------------------------------
// cron.yaml
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
interface K8sModel {
  validate(): void;
}
const MODELS: Record<string, new (data: never) => K8sModel> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'batch/v1/CronJob': CronJob,
};

/**
 * Field names, strictly. The models' schemas, like Kubernetes' OpenAPI, accept unknown fields;
 * the API server drops them (or, with strict field validation, refuses them). So each object is
 * checked against the properties its schema names: a typo, or a container-only setting written at
 * pod level, fails here. Types by field, for the objects cron.yaml uses.
 */
const CHILD_TYPES: Record<string, Record<string, string>> = {
  IoK8sApiCoreV1ServiceAccount: { metadata: 'IoK8sApimachineryPkgApisMetaV1ObjectMeta' },
  IoK8sApiCoreV1ConfigMap: { metadata: 'IoK8sApimachineryPkgApisMetaV1ObjectMeta' },
  IoK8sApiCoreV1PersistentVolumeClaim: {
    metadata: 'IoK8sApimachineryPkgApisMetaV1ObjectMeta',
    spec: 'IoK8sApiCoreV1PersistentVolumeClaimSpec',
  },
  IoK8sApiCoreV1PersistentVolumeClaimSpec: { resources: 'IoK8sApiCoreV1VolumeResourceRequirements' },
  IoK8sApiBatchV1CronJob: { metadata: 'IoK8sApimachineryPkgApisMetaV1ObjectMeta', spec: 'IoK8sApiBatchV1CronJobSpec' },
  IoK8sApiBatchV1CronJobSpec: { jobTemplate: 'IoK8sApiBatchV1JobTemplateSpec' },
  IoK8sApiBatchV1JobTemplateSpec: {
    metadata: 'IoK8sApimachineryPkgApisMetaV1ObjectMeta',
    spec: 'IoK8sApiBatchV1JobSpec',
  },
  IoK8sApiBatchV1JobSpec: {
    template: 'IoK8sApiCoreV1PodTemplateSpec',
    podFailurePolicy: 'IoK8sApiBatchV1PodFailurePolicy',
  },
  IoK8sApiBatchV1PodFailurePolicy: { rules: 'IoK8sApiBatchV1PodFailurePolicyRule' },
  IoK8sApiBatchV1PodFailurePolicyRule: {
    onExitCodes: 'IoK8sApiBatchV1PodFailurePolicyOnExitCodesRequirement',
    onPodConditions: 'IoK8sApiBatchV1PodFailurePolicyOnPodConditionsPattern',
  },
  IoK8sApiCoreV1PodTemplateSpec: {
    metadata: 'IoK8sApimachineryPkgApisMetaV1ObjectMeta',
    spec: 'IoK8sApiCoreV1PodSpec',
  },
  IoK8sApiCoreV1PodSpec: {
    securityContext: 'IoK8sApiCoreV1PodSecurityContext',
    containers: 'IoK8sApiCoreV1Container',
    volumes: 'IoK8sApiCoreV1Volume',
  },
  IoK8sApiCoreV1PodSecurityContext: { seccompProfile: 'IoK8sApiCoreV1SeccompProfile' },
  IoK8sApiCoreV1Container: {
    securityContext: 'IoK8sApiCoreV1SecurityContext',
    resources: 'IoK8sApiCoreV1ResourceRequirements',
    volumeMounts: 'IoK8sApiCoreV1VolumeMount',
    env: 'IoK8sApiCoreV1EnvVar',
  },
  IoK8sApiCoreV1SecurityContext: {
    capabilities: 'IoK8sApiCoreV1Capabilities',
    seccompProfile: 'IoK8sApiCoreV1SeccompProfile',
  },
  IoK8sApiCoreV1EnvVar: { valueFrom: 'IoK8sApiCoreV1EnvVarSource' },
  IoK8sApiCoreV1EnvVarSource: {
    secretKeyRef: 'IoK8sApiCoreV1SecretKeySelector',
    configMapKeyRef: 'IoK8sApiCoreV1ConfigMapKeySelector',
  },
  IoK8sApiCoreV1Volume: {
    emptyDir: 'IoK8sApiCoreV1EmptyDirVolumeSource',
    configMap: 'IoK8sApiCoreV1ConfigMapVolumeSource',
    persistentVolumeClaim: 'IoK8sApiCoreV1PersistentVolumeClaimVolumeSource',
  },
  IoK8sApiCoreV1ConfigMapVolumeSource: { items: 'IoK8sApiCoreV1KeyToPath' },
};
/** Maps whose keys are data, not field names. */
const FREE_FORM = new Set([
  'labels',
  'annotations',
  'requests',
  'limits',
  'data',
  'binaryData',
  'matchLabels',
  'nodeSelector',
]);
const SCHEMA_DIRS = [
  'node_modules/kubernetes-models/_schemas',
  'node_modules/@kubernetes-models/apimachinery/_schemas',
].map((d) => path.join(ROOT, d));

function propertiesOf(type: string): Set<string> {
  const dir = SCHEMA_DIRS.find((d) => existsSync(path.join(d, `${type}.mjs`)));
  if (!dir) throw new Error(`no schema ${type} in kubernetes-models`);
  const code = readFileSync(path.join(dir, `${type}.mjs`), 'utf8');
  return new Set(
    [...code.matchAll(/\bdata(?:\.([A-Za-z_$][\w$]*)|\["([^"]+)"\])/g)]
      .map((m) => m[1] ?? m[2]!)
      .filter((p) => p !== 'length'),
  );
}

/** Unknown field paths of `value`, read as `type`. */
function unknownFields(value: unknown, type: string, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownFields(v, type, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const known = propertiesOf(type);
  const out: string[] = [];
  for (const [key, child] of Object.entries(value as Obj)) {
    const p = at ? `${at}.${key}` : key;
    if (!known.has(key)) out.push(p);
    else if (CHILD_TYPES[type]?.[key]) out.push(...unknownFields(child, CHILD_TYPES[type][key]!, p));
    else if (
      child !== null &&
      typeof child === 'object' &&
      !FREE_FORM.has(key) &&
      !(Array.isArray(child) && child.every((c) => typeof c !== 'object'))
    ) {
      out.push(`${p} (an object of a type this test does not map: add it to CHILD_TYPES)`);
    }
  }
  return out;
}

const schemaType = (apiVersion: string, kind: string): string => {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  return `IoK8sApi${cap(group!)}${cap(version!)}${kind}`;
};

/** Validates a document: the models' schema (throws), then field names; returns the unknown fields. */
function validateDocument(doc: Obj): string[] {
  const key = `${String(doc.apiVersion)}/${String(doc.kind)}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`no model for ${key}`);
  new Model(doc as never).validate();
  return unknownFields(doc, schemaType(String(doc.apiVersion), String(doc.kind)));
}

const CRON_TEXT = readFileSync(path.join(ROOT, 'cron.yaml'), 'utf8');
const get = (o: unknown, p: string): unknown => p.split('.').reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], o);

describe('cron.yaml', () => {
  const parsed = YAML.parseAllDocuments(CRON_TEXT);
  const docs = parsed.map((d) => d.toJS() as Obj | null).filter((d): d is Obj => d !== null);
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);

  it('validates every document of cron.yaml against the Kubernetes schemas of a real package', () => {
    expect(parsed.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message))).toEqual([]);
    // The PersistentVolumeClaim for /reports is an optional variant, commented out at the end.
    expect(docs.map((d) => `${String(d.apiVersion)}/${String(d.kind)}`).sort()).toEqual([
      'batch/v1/CronJob',
      'v1/ConfigMap',
      'v1/ServiceAccount',
    ]);
    for (const doc of docs)
      expect({ kind: doc.kind, unknownFields: validateDocument(doc) }).toEqual({ kind: doc.kind, unknownFields: [] });

    // The validators do check: a wrong enum, a wrong type and a misplaced field each fail.
    const cron = byKind('CronJob')[0]!;
    const broken = (edit: (c: Obj) => void): Obj => {
      const copy = structuredClone(cron);
      edit(copy);
      return copy;
    };
    expect(() => validateDocument(broken((c) => ((c.spec as Obj).concurrencyPolicy = 5)))).toThrow(/concurrencyPolicy/);
    expect(() => validateDocument(broken((c) => ((c.spec as Obj).concurrencyPolicy = 'Sometimes')))).toThrow(
      /concurrencyPolicy/,
    );
    expect(() =>
      validateDocument(
        broken((c) => ((get(c, 'spec.jobTemplate.spec.template.spec.securityContext') as Obj).runAsUser = 'nobody')),
      ),
    ).toThrow(/runAsUser/);
    expect(() =>
      validateDocument(
        broken((c) => delete ((get(c, 'spec.jobTemplate.spec.template.spec.containers') as Obj[])[0] as Obj).name),
      ),
    ).toThrow(/name/);
    // Kubernetes' schemas allow unknown fields, so these two pass the models and fail the field check.
    expect(
      validateDocument(
        broken(
          (c) => ((get(c, 'spec.jobTemplate.spec.template.spec.securityContext') as Obj).readOnlyRootFilesystem = true),
        ),
      ),
    ).toEqual(['spec.jobTemplate.spec.template.spec.securityContext.readOnlyRootFilesystem']);
    expect(validateDocument(broken((c) => ((c.spec as Obj).concurrencyPolicyy = 'Forbid')))).toEqual([
      'spec.concurrencyPolicyy',
    ]);
  });

  it('runs the daily job as the image user with a read-only root, bounded, never overlapping', () => {
    const cron = byKind('CronJob')[0]!;
    const spec = cron.spec as Obj;
    expect(spec).toMatchObject({ concurrencyPolicy: 'Forbid', timeZone: expect.any(String) });
    expect(spec.schedule).toMatch(/^\d+ [0-7] \* \* \*$/); // once a day, early morning
    for (const k of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'])
      expect(spec[k]).toEqual(expect.any(Number));
    const job = get(cron, 'spec.jobTemplate.spec') as Obj;
    expect(job.backoffLimit).toEqual(expect.any(Number));
    expect(job.activeDeadlineSeconds).toBeGreaterThan(0);
    const pod = get(job, 'template.spec') as Obj;
    expect(['Never', 'OnFailure']).toContain(pod.restartPolicy);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: IMAGE_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const containers = pod.containers as Obj[];
    expect(containers).toHaveLength(1);
    const c = containers[0]!;
    // The image is this version's (a tag left behind ran a job that refused its own ConfigMap's keys), or a digest.
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(String(c.image)).toMatch(new RegExp(`(:${version.replaceAll('.', '\\.')}|@sha256:[0-9a-f]{64})$`));
    // The reports are published to the bucket named in the ConfigMap; /reports is the local copy.
    expect(c.args).toEqual([
      'daily',
      '--config',
      '/etc/parity/config.yaml',
      '--out',
      '$(PARITY_REPORTS_URL)',
      '--local-out',
      '/reports',
    ]);
    const reportsUrl = ((c.env as Obj[]) ?? []).find((e) => e.name === 'PARITY_REPORTS_URL');
    expect(get(reportsUrl, 'valueFrom.configMapKeyRef')).toEqual({ name: 'audit-parity-config', key: 'reports-url' });
    expect(get(byKind('ConfigMap')[0], 'data.reports-url')).toMatch(/^gs:\/\/[a-z0-9][a-z0-9._-]+[a-z0-9]\/.*\/$/);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: IMAGE_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(get(c, 'resources.limits.memory')).toBe('3Gi');
    expect(get(c, 'resources.requests.memory')).toEqual(expect.any(String));
    expect(get(c, 'resources.requests.cpu')).toEqual(expect.any(String));
    // The image's user is the one the pod runs as.
    expect(
      finalStage.steps
        .filter((s) => s.keyword === 'USER')
        .at(-1)!
        .args.split(':')[0],
    ).toBe(String(IMAGE_UID));

    // Volumes: /tmp a bounded emptyDir, /reports a volume, the config at /etc/parity.
    const mounts = Object.fromEntries((c.volumeMounts as Obj[]).map((m) => [m.mountPath as string, m]));
    const volumes = Object.fromEntries((pod.volumes as Obj[]).map((v) => [v.name as string, v]));
    const volumeAt = (mountPath: string) => volumes[mounts[mountPath]!.name as string]!;
    expect(Object.keys(mounts).sort()).toEqual(['/etc/parity', '/reports', '/tmp']);
    expect(get(volumeAt('/tmp'), 'emptyDir.sizeLimit')).toEqual(expect.any(String));
    expect(get(volumeAt('/tmp'), 'emptyDir.medium')).toBeUndefined(); // on disk: in memory it would count against the limit
    const reportsVolume = volumeAt('/reports');
    expect(reportsVolume.emptyDir !== undefined || reportsVolume.persistentVolumeClaim !== undefined).toBe(true);
    const claim = get(reportsVolume, 'persistentVolumeClaim.claimName');
    if (claim !== undefined)
      expect(byKind('PersistentVolumeClaim').map((p) => get(p, 'metadata.name'))).toContain(claim);
    expect(mounts['/etc/parity']!.readOnly).toBe(true);

    // Every object names the namespace that the Workload Identity binding expects, and a tag is
    // always pulled (a moved tag never leaves a stale image running).
    for (const d of docs) expect(get(d, 'metadata.namespace')).toBe('audit-parity');
    expect(CRON_TEXT).toContain('serviceAccount:my-project.svc.id.goog[audit-parity/audit-parity]');
    expect(String(c.image).includes('@sha256:') || c.imagePullPolicy === 'Always').toBe(true);

    // The objects refer to each other by the right names.
    const sa = byKind('ServiceAccount')[0]!;
    expect(pod.serviceAccountName).toBe(get(sa, 'metadata.name'));
    expect(get(sa, 'metadata.annotations') as Obj).toHaveProperty(
      ['iam.gke.io/gcp-service-account'],
      expect.stringMatching(/^[a-z][a-z0-9-]+@[a-z][a-z0-9-]+\.iam\.gserviceaccount\.com$/),
    );
    const cm = byKind('ConfigMap')[0]!;
    expect(get(volumeAt('/etc/parity'), 'configMap.name')).toBe(get(cm, 'metadata.name'));
    expect(get(cm, 'data') as Obj).toHaveProperty(['config.yaml']);
    const items = get(volumeAt('/etc/parity'), 'configMap.items') as Obj[] | undefined;
    if (items) expect(items).toContainEqual({ key: 'config.yaml', path: 'config.yaml' });
    // No secret in any document: the webhook URL comes from a Secret reference.
    expect(CRON_TEXT).not.toMatch(/hooks\.slack\.com\/services\/|^\s*(password|token|apiKey|secret)\s*:/im);
    for (const e of (c.env as Obj[] | undefined) ?? []) expect(e.value).toBeUndefined();
  });

  it('offers a PersistentVolumeClaim for /reports, commented out, that is valid once uncommented', () => {
    const commented = CRON_TEXT.slice(CRON_TEXT.indexOf('\n# apiVersion: v1\n# kind: PersistentVolumeClaim'));
    const pvc = YAML.parse(commented.replace(/^# ?/gm, '')) as Obj;
    expect(validateDocument(pvc)).toEqual([]);
    expect(get(pvc, 'metadata.namespace')).toBe('audit-parity');
    expect(get(pvc, 'spec.accessModes')).toEqual(['ReadWriteOnce']);
    expect(CRON_TEXT).toContain(`#                claimName: ${String(get(pvc, 'metadata.name'))}`);
  });

  it("holds a config that passes the project's own validator", () => {
    const cm = byKind('ConfigMap')[0]!;
    const configText = get(cm, 'data') as Record<string, string>;
    const raw = YAML.parse(configText['config.yaml']!) as unknown;
    const config = parseConfig(raw, '/');
    expect(config.sites).toEqual(['US', 'CA', 'MX']);
    expect(config.tiers.proxy!.locations.length).toBeGreaterThan(0);
    expect(config.tiers.gcs!.locations.map((l) => `${l.scheme}://${l.bucket}`).sort()).toEqual(
      ['us', 'ca', 'mx'].map((s) => `gs://audit-api-logs-${s}-prod`).sort(),
    );
    // The schedule's zone is the business day's zone, so "yesterday" is a whole day there.
    expect(config.timezone).toBe(get(byKind('CronJob')[0], 'spec.timeZone'));
    // DuckDB's bound is derived from the container's memory limit (engine.memoryLimit unset): half of
    // it, the other half for Node and the downloads. Its scratch space is the /tmp volume.
    expect(config.engine.memoryLimit).toBeUndefined();
    const container = (get(byKind('CronJob')[0], 'spec.jobTemplate.spec.template.spec.containers') as Obj[])[0]!;
    const [, gib] = /^(\d+)Gi$/.exec(String(get(container, 'resources.limits.memory')))!;
    expect(engineMemoryLimit(undefined, Number(gib) * 1024 ** 3).limit).toBe(`${Number(gib) * 512}MiB`);
    expect(config.engine.tempDirectory ?? '/tmp').toBe('/tmp');
    // The per-object cache the README's daily figures assume: in the reports bucket, outside the reports' prefix.
    const reportsUrl = String(get(cm, 'data.reports-url'));
    const cache = String((raw as { cache?: { location?: string } }).cache?.location);
    expect(cache.startsWith(`gs://${new URL(reportsUrl).host}/`)).toBe(true);
    expect(cache.startsWith(reportsUrl)).toBe(false);
    const alertVar = config.alerts.webhookUrlEnv;
    if (alertVar) {
      const c = (get(byKind('CronJob')[0], 'spec.jobTemplate.spec.template.spec.containers') as Obj[])[0]!;
      expect((c.env as Obj[]).map((e) => e.name)).toContain(alertVar);
    }
  });
});
