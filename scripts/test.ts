// `npm test`: lint and format, unused code (knip), typecheck, a fresh build that must leave dist/
// as committed (no change, no untracked file), action metadata and docs, a test beside each module
// with logic (scripts/tests-beside.ts --check), the local cluster's Go node agent (go vet, go test)
// wherever Go is there to build the cluster, then unit and end-to-end tests (which execute the
// built bundles).
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

step('lint (eslint)', bin('eslint'), ['.', '--max-warnings', '0']);
step('format (prettier --check)', bin('prettier'), ['--check', '.', '--log-level', 'warn']);
step('unused files, exports and dependencies (knip)', bin('knip'), ['--no-progress']);
step('typecheck (tsc)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
step('build (ncc); dist/ matches HEAD, nothing untracked', node, [join(root, 'scripts', 'build.ts'), '--check']);
step('action.yml and workflows (@actions/workflow-parser)', node, [join(root, 'scripts', 'validate.ts')]);
step('action READMEs match action.yml', node, [join(root, 'scripts', 'action-docs.ts')]);
step('a test beside each module with logic, or listed as tested elsewhere', node, [
  join(root, 'scripts', 'tests-beside.ts'),
  '--check',
]);

// The node agent (test/cluster/agent) is Go; the cluster is built wherever Go is on PATH, and so
// its unit tests run there. The environment and -trimpath are test/cluster/build.ts's, so vet and
// test reuse the build cache of the agent's build. Without Go: a failure in CI (which builds the
// cluster), a notice elsewhere.
const agent = join(root, 'test', 'cluster', 'agent');
const goEnv = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly -buildvcs=false' };
if (spawnSync('go', ['version'], { env: goEnv, stdio: 'ignore' }).status === 0) {
  step('node agent: go vet', 'go', ['vet', '-trimpath', './...'], { cwd: agent, env: goEnv });
  step('node agent: go test', 'go', ['test', '-trimpath', './...'], { cwd: agent, env: goEnv });
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

// Two lanes side by side, each running its files one at a time: most of an end-to-end test's time
// is waiting (on pods, installs, act's jobs), so two overlap on two cores. The second lane holds
// every workflow run under act or gitlab-ci-local (they share act's action cache and the build of
// the runners), the registry installs and the named clusters of the waves; the first, everything
// else (the unit tests and the tests on the default cluster, each in namespaces of its own). What
// two files share (the default cluster's restricted namespace: blue-green-deploy and
// cluster-conformance) stays in one lane.
const SECOND_LANE = new Set([
  'test/e2e/demo.test.ts',
  'test/e2e/pipeline-act.test.ts',
  'test/e2e/pipeline-gitlab.test.ts',
  'test/e2e/pipeline-jenkins.test.ts',
  'test/e2e/release-act.test.ts',
  'test/e2e/consumer-repo.test.ts',
  'test/e2e/deploy-waves-act.test.ts',
  'test/e2e/install-registry.test.ts',
  'test/e2e/npm12-install-scripts.test.ts',
  'test/e2e/blue-green-waves.test.ts',
]);
for (const file of SECOND_LANE)
  if (!tests.includes(file)) {
    process.stdout.write(`\n✖ scripts/test.ts lists ${file} in the second lane, but there is no such test file\n`);
    process.exit(1);
  }
const lanes = [tests.filter((f) => !SECOND_LANE.has(f)), tests.filter((f) => SECOND_LANE.has(f))];
process.stdout.write(
  `\n── unit and end-to-end tests (${tests.length} files in two lanes of ${lanes[0]?.length} and ${lanes[1]?.length})\n`,
);

/** Runs one lane's files one at a time; each line of its output is prefixed with the lane's number. */
function lane(files: string[], n: number): Promise<{ code: number; ms: number; totals: string[] }> {
  const started = Date.now();
  const child = spawn(node, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const totals: string[] = [];
  const prefix = (stream: NodeJS.WritableStream) => (line: string) => {
    if (/^ℹ (tests|pass|fail|cancelled|skipped|todo) \d+/.test(line)) totals.push(line.slice(2));
    stream.write(`${n}│ ${line}\n`);
  };
  createInterface({ input: child.stdout }).on('line', prefix(process.stdout));
  createInterface({ input: child.stderr }).on('line', prefix(process.stderr));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), ms: Date.now() - started, totals })),
  );
}

const results = await Promise.all(lanes.map((files, i) => lane(files, i + 1)));
process.stdout.write('\n── lanes\n');
for (const [i, r] of results.entries())
  process.stdout.write(
    `lane ${i + 1}: ${lanes[i]?.length} files in ${(r.ms / 1000).toFixed(0)} s; ${r.totals.join(', ')}; exit ${r.code}\n`,
  );
if (results.some((r) => r.code !== 0)) {
  process.stdout.write('\n✖ unit and end-to-end tests failed\n');
  process.exit(1);
}
