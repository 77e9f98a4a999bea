// `npm test`: lint and format, typecheck, a fresh build that must leave dist/ as committed (no
// change, no untracked file), action metadata and docs, then unit and end-to-end tests (which
// execute the built bundles).
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);
const node = process.execPath;

function step(title: string, command: string, args: string[]): void {
  process.stdout.write(`\n── ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stdout.write(`\n✖ ${title} failed\n`);
    process.exit(result.status ?? 1);
  }
}

step('lint (eslint)', bin('eslint'), ['.', '--max-warnings', '0']);
step('format (prettier --check)', bin('prettier'), ['--check', '.', '--log-level', 'warn']);
step('typecheck (tsc)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
step('build (ncc); dist/ matches HEAD, nothing untracked', node, [join(root, 'scripts', 'build.ts'), '--check']);
step('action.yml and workflows (@actions/workflow-parser)', node, [join(root, 'scripts', 'validate.ts')]);
step('action READMEs match action.yml', node, [join(root, 'scripts', 'action-docs.ts')]);

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
