// The dist/ check (scripts/dist-check.ts, run by `node scripts/build.ts --check`) on a temporary
// git repository: a clean dist/ passes; a changed, a deleted, a new untracked and an ignored file
// each fail, naming the file, and a change prints its diff.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDist } from './dist-check.ts';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function git(root: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd: root, stdio: 'pipe' });
}

/**
 * A repository with dist/app/index.js and dist/app/package.json committed, a .gitignore, and
 * this repository's .gitattributes (dist/** -diff).
 */
function repository(): string {
  const root = mkdtempSync(join(tmpdir(), 'adci-dist-'));
  roots.push(root);
  mkdirSync(join(root, 'dist', 'app'), { recursive: true });
  writeFileSync(join(root, 'dist', 'app', 'index.js'), 'export const answer = 42;\n');
  writeFileSync(join(root, 'dist', 'app', 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(root, '.gitignore'), '*.log\n');
  copyFileSync(join(import.meta.dirname, '..', '.gitattributes'), join(root, '.gitattributes'));
  git(root, 'init', '-q');
  git(root, 'add', '.');
  git(root, 'commit', '-qm', 'dist');
  return root;
}

test('a dist/ identical to HEAD passes, even after files are rewritten with the same content', () => {
  const root = repository();
  assert.equal(checkDist(root), undefined);
  writeFileSync(join(root, 'dist', 'app', 'index.js'), 'export const answer = 42;\n');
  assert.equal(checkDist(root), undefined);
  // Files outside dist/ are not its business.
  writeFileSync(join(root, 'notes.txt'), 'scratch\n');
  assert.equal(checkDist(root), undefined);
});

test('a changed file fails with its name and its diff, though dist/** is marked -diff', () => {
  const root = repository();
  writeFileSync(join(root, 'dist', 'app', 'index.js'), 'export const answer = 43;\n');
  const report = checkDist(root) ?? '';
  assert.match(report, /^dist\/ does not match a fresh build/);
  assert.match(report, /^M\tdist\/app\/index\.js$/m);
  assert.match(report, /^-export const answer = 42;$/m);
  assert.match(report, /^\+export const answer = 43;$/m);
});

test('a changed file that is staged still fails: the check is against HEAD', () => {
  const root = repository();
  writeFileSync(join(root, 'dist', 'app', 'index.js'), 'export const answer = 44;\n');
  git(root, 'add', 'dist');
  assert.match(checkDist(root) ?? '', /^M\tdist\/app\/index\.js$/m);
});

test('a deleted file fails', () => {
  const root = repository();
  rmSync(join(root, 'dist', 'app', 'package.json'));
  assert.match(checkDist(root) ?? '', /^D\tdist\/app\/package\.json$/m);
});

test('a new untracked file fails with its name', () => {
  const root = repository();
  mkdirSync(join(root, 'dist', 'app', 'chunks'));
  writeFileSync(join(root, 'dist', 'app', 'chunks', '17.index.js'), 'export {};\n');
  const report = checkDist(root) ?? '';
  assert.match(report, /not tracked by git/);
  assert.match(report, /^dist\/app\/chunks\/17\.index\.js$/m);
});

test('an ignored file in dist/ fails too (npm pack would ship it, a git tag would not)', () => {
  const root = repository();
  writeFileSync(join(root, 'dist', 'app', 'build.log'), 'noise\n');
  assert.match(checkDist(root) ?? '', /^dist\/app\/build\.log$/m);
});

test('a long diff is cut and says so', () => {
  const root = repository();
  writeFileSync(join(root, 'dist', 'app', 'index.js'), `export const s = '${'x'.repeat(50_000)}';\n`);
  const report = checkDist(root) ?? '';
  assert.match(report, /… diff cut at 20000 of \d+ characters/);
  assert.ok(report.length < 25_000, `report is ${report.length} characters`);
});
