// `npm test`: a fresh build that must leave dist/ as committed (no change, no untracked file), then,
// side by side, the checks (lint and format, unused code (knip), typecheck, action metadata and
// docs, a test beside each module with logic, the local cluster's Go node agent (go vet, go test)
// wherever Go is there to build the cluster) and the unit and end-to-end tests in lanes (which
// execute the built bundles). Any failure fails the run, after everything has run.
import { spawn, spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = join(import.meta.dirname, '..');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);
const node = process.execPath;

function step(
  title: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): void {
  process.stdout.write(`\n── ${title}\n`);
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stdout.write(`\n✖ ${title} failed\n`);
    process.exit(result.status ?? 1);
  }
}

// The fresh build comes first: the tests execute dist/. The other checks read the sources only,
// so they run as one more job beside the test files (below) instead of before them.
step('build (ncc); dist/ matches HEAD, nothing untracked', node, [join(root, 'scripts', 'build.ts'), '--check']);

interface Job {
  title: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}
const checks: Job[] = [
  { title: 'lint (eslint)', command: bin('eslint'), args: ['.', '--max-warnings', '0'] },
  { title: 'format (prettier --check)', command: bin('prettier'), args: ['--check', '.', '--log-level', 'warn'] },
  { title: 'unused files, exports and dependencies (knip)', command: bin('knip'), args: ['--no-progress'] },
  { title: 'typecheck (tsc)', command: bin('tsc'), args: ['-p', 'tsconfig.json', '--noEmit'] },
  {
    title: 'action.yml and workflows (@actions/workflow-parser)',
    command: node,
    args: [join(root, 'scripts', 'validate.ts')],
  },
  { title: 'action READMEs match action.yml', command: node, args: [join(root, 'scripts', 'action-docs.ts')] },
  {
    title: 'a test beside each module with logic, or listed as tested elsewhere',
    command: node,
    args: [join(root, 'scripts', 'tests-beside.ts'), '--check'],
  },
];

// The node agent (test/cluster/agent) is Go; the cluster is built wherever Go is on PATH, and so
// its unit tests run there. The environment and -trimpath are test/cluster/build.ts's, so vet and
// test reuse the build cache of the agent's build. Without Go: a failure in CI (which builds the
// cluster), a notice elsewhere.
const agent = join(root, 'test', 'cluster', 'agent');
const goEnv = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly -buildvcs=false' };
if (spawnSync('go', ['version'], { env: goEnv, stdio: 'ignore' }).status === 0) {
  checks.push(
    { title: 'node agent: go vet', command: 'go', args: ['vet', '-trimpath', './...'], cwd: agent, env: goEnv },
    { title: 'node agent: go test', command: 'go', args: ['test', '-trimpath', './...'], cwd: agent, env: goEnv },
  );
} else if (process.env.CI) {
  process.stdout.write('\n✖ node agent: Go is not on PATH; CI builds the local cluster, so it needs Go\n');
  process.exit(1);
} else {
  process.stdout.write('\n── node agent: skipped (Go is not on PATH; it is needed only to build the local cluster)\n');
}

const tests = [
  ...globSync('packages/*/src/**/*.test.ts', { cwd: root }),
  ...globSync('actions/*/src/**/*.test.ts', { cwd: root }),
  ...globSync('scripts/**/*.test.ts', { cwd: root }),
  ...globSync('test/**/*.test.ts', { cwd: root, exclude: ['**/node_modules/**'] }),
].sort();

// Test files run side by side in lanes (ADCI_TEST_LANES, default 2), each lane one file at a time,
// taking the next file from one queue; the checks run as one more job beside them. Two lanes keep
// two cores busy: a full run with three lanes measured the CPU 96-100 % busy throughout and was no
// faster, so more lanes only add contention. The queue starts with the slowest files (seconds
// measured in a full run, longest first) so that the short ones fill in at the end; the rest follow
// in name order. Files in one EXCLUSIVE group never run at the same time: the workflow runs under
// act (act's action cache and host workspaces under ~/.cache/act; the demo runs act too), the
// registry installs, and the two files that use the default cluster's restricted namespace.
// Everything else takes namespaces, ports and named clusters of its own.
const SLOW: Record<string, number> = {
  'test/e2e/pipeline-act.test.ts': 322,
  'test/e2e/npm12-install-scripts.test.ts': 311,
  'test/e2e/demo.test.ts': 294,
  'test/e2e/blue-green-deploy-sources.test.ts': 277,
  'test/e2e/blue-green-release.test.ts': 234,
  'test/e2e/monitoring-alerts.test.ts': 163,
  'test/e2e/release-act.test.ts': 138,
  'test/e2e/blue-green-deploy.test.ts': 132,
  'test/e2e/pipeline-gitlab.test.ts': 123,
  'test/e2e/pipeline-jenkins.test.ts': 120,
  'test/e2e/blue-green-waves.test.ts': 104,
  'test/e2e/deploy-waves-act.test.ts': 77,
};
const EXCLUSIVE: Record<string, string[]> = {
  act: [
    'test/e2e/pipeline-act.test.ts',
    'test/e2e/demo.test.ts',
    'test/e2e/release-act.test.ts',
    'test/e2e/consumer-repo.test.ts',
    'test/e2e/deploy-waves-act.test.ts',
  ],
  registry: ['test/e2e/install-registry.test.ts', 'test/e2e/npm12-install-scripts.test.ts'],
  restricted: ['test/e2e/blue-green-deploy.test.ts', 'test/e2e/cluster-conformance.test.ts'],
};
const groupOf = new Map(Object.entries(EXCLUSIVE).flatMap(([group, files]) => files.map((f) => [f, group] as const)));
for (const file of [...Object.keys(SLOW), ...groupOf.keys()])
  if (!tests.includes(file)) {
    process.stdout.write(`\n✖ scripts/test.ts names ${file}, but there is no such test file\n`);
    process.exit(1);
  }
const lanes = Number(process.env.ADCI_TEST_LANES ?? 2);
if (!Number.isInteger(lanes) || lanes < 1 || lanes > 8) {
  process.stdout.write(
    `\n✖ ADCI_TEST_LANES must be a whole number from 1 to 8, not '${process.env.ADCI_TEST_LANES}'\n`,
  );
  process.exit(2);
}
const queue = [...tests].sort((a, b) => (SLOW[b] ?? 0) - (SLOW[a] ?? 0) || a.localeCompare(b));
process.stdout.write(`\n── unit and end-to-end tests (${tests.length} files in ${lanes} lanes) beside the checks\n`);

const started = Date.now();
const running = new Set<string>();
const totals = new Map<string, number>();
const durations: { file: string; s: number; code: number }[] = [];

/** Runs one command with every output line prefixed (`c│` for the checks, `<lane>│` for a lane). */
function run(job: Job, prefix: string, count = false): Promise<number> {
  const child = spawn(job.command, job.args, {
    cwd: job.cwd ?? root,
    env: job.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const write = (stream: NodeJS.WritableStream) => (line: string) => {
    const total = count ? /^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)/.exec(line) : null;
    if (total) totals.set(total[1] as string, (totals.get(total[1] as string) ?? 0) + Number(total[2]));
    stream.write(`${prefix}│ ${line}\n`);
  };
  createInterface({ input: child.stdout }).on('line', write(process.stdout));
  createInterface({ input: child.stderr }).on('line', write(process.stderr));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** The checks, one after another; every one runs (a failure is reported, not a reason to stop). */
async function runChecks(): Promise<string[]> {
  const failed: string[] = [];
  for (const job of checks) {
    process.stdout.write(`c│ ── ${job.title}\n`);
    if ((await run(job, 'c')) !== 0) failed.push(job.title);
  }
  return failed;
}

/** One lane: takes the first queued file whose exclusive group is not running, until none is left. */
async function lane(n: number): Promise<void> {
  for (;;) {
    const index = queue.findIndex((f) => !running.has(groupOf.get(f) ?? f));
    if (index < 0) {
      if (queue.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 500)); // every queued file waits for its group
      continue;
    }
    const [file] = queue.splice(index, 1) as [string];
    const key = groupOf.get(file) ?? file;
    running.add(key);
    const t = Date.now();
    const code = await run(
      { title: file, command: node, args: ['--test', '--test-reporter=spec', file] },
      String(n),
      true,
    );
    running.delete(key);
    durations.push({ file, s: (Date.now() - t) / 1000, code });
  }
}

const [failedChecks] = await Promise.all([runChecks(), ...Array.from({ length: lanes }, (_, i) => lane(i + 1))]);
const failedFiles = durations.filter((d) => d.code !== 0);
process.stdout.write(`\n── tests: ${[...totals].map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
process.stdout.write(
  `${tests.length} files in ${lanes} lanes, ${((Date.now() - started) / 1000).toFixed(0)} s; the slowest:\n`,
);
for (const d of [...durations].sort((a, b) => b.s - a.s).slice(0, 15))
  process.stdout.write(`  ${d.s.toFixed(0).padStart(5)} s  ${d.file}\n`);
for (const d of failedFiles) process.stdout.write(`✖ ${d.file} failed (exit ${d.code})\n`);
for (const title of failedChecks) process.stdout.write(`✖ ${title} failed\n`);
if (failedFiles.length > 0 || failedChecks.length > 0 || durations.length !== tests.length) {
  process.stdout.write('\n✖ unit and end-to-end tests failed\n');
  process.exit(1);
}
