// `npm test`: lint and format, unused code (knip), typecheck, a fresh build that must leave dist/
// as committed (no change, no untracked file), action metadata and docs, a test beside each module
// with logic (scripts/tests-beside.ts --check), the local cluster's Go node agent (go vet, go test)
// wherever Go is there to build the cluster, then unit and end-to-end tests (which execute the
// built bundles).
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { join } from 'node:path';

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
step(`unit and end-to-end tests (${tests.length} files)`, node, [
  '--test',
  '--test-concurrency=1',
  '--test-reporter=spec',
  ...tests,
]);
