// The changed lines of a pull request from real `git diff --unified=0` output: a repository made
// here with git, so the text is what git writes (renames, a deleted file, quoted non-ASCII paths).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countChangedLines, gitDiffArgs, parseUnifiedDiff } from './diff.ts';

const repo = mkdtempSync(join(tmpdir(), 'adci-diff-'));
after(() => rmSync(repo, { recursive: true, force: true }));
const git = (...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd: repo,
    encoding: 'utf8',
  });

const lines = (n: number, tag = 'line'): string =>
  Array.from({ length: n }, (_, i) => `${tag} ${i + 1}`).join('\n') + '\n';

test('gitDiffArgs and parseUnifiedDiff on what git itself writes', () => {
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'kept.py'), lines(30));
  writeFileSync(join(repo, 'gone.py'), lines(5));
  writeFileSync(join(repo, 'old-name.ts'), lines(10));
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  git('checkout', '-q', '-b', 'feature');
  const kept = lines(30).split('\n');
  kept[1] = 'changed 2';
  kept.splice(10, 0, 'added a', 'added b');
  kept.splice(25, 1);
  writeFileSync(join(repo, 'kept.py'), kept.join('\n'));
  unlinkSync(join(repo, 'gone.py'));
  git('mv', 'old-name.ts', 'new-name.ts');
  writeFileSync(join(repo, 'new-name.ts'), lines(10).replace('line 10', 'line ten'));
  writeFileSync(join(repo, 'prix-café.py'), lines(3, 'prix'));
  writeFileSync(join(repo, 'tab\tname.py'), lines(1, 'tab'));
  git('add', '-A');
  git('commit', '-q', '-m', 'change');

  const args = gitDiffArgs('main', 'feature');
  assert.deepEqual(args.slice(-2), ['main...feature', '--']);
  const changed = parseUnifiedDiff(git(...args));
  assert.deepEqual(
    [...changed.keys()].sort(),
    ['kept.py', 'new-name.ts', 'prix-café.py', 'tab\tname.py'],
    'a deleted file has no lines; non-ASCII and tab names are unquoted',
  );
  assert.deepEqual([...(changed.get('kept.py') ?? [])], [2, 11, 12]);
  assert.deepEqual([...(changed.get('new-name.ts') ?? [])], [10]);
  assert.deepEqual([...(changed.get('prix-café.py') ?? [])], [1, 2, 3]);
  assert.equal(countChangedLines(changed), 8);
});

test('hunks without a count are one line, pure deletions none; CRLF and timestamps after the path are ignored', () => {
  const diff = [
    '--- a/a.txt\r',
    '+++ b/a.txt\r',
    '@@ -3 +3 @@',
    '@@ -9,2 +8,0 @@',
    '--- a/b.txt\t2026-12-07 10:00:00',
    '+++ b/b.txt\t2026-12-07 10:00:01',
    '@@ -0,0 +1,2 @@',
    '--- a/c.txt',
    '+++ b/c.txt',
    '@@ -1,2 +0,0 @@',
  ].join('\n');
  const changed = parseUnifiedDiff(diff);
  assert.deepEqual(Object.fromEntries([...changed].map(([k, v]) => [k, [...v]])), { 'a.txt': [3], 'b.txt': [1, 2] });
  assert.equal(countChangedLines(parseUnifiedDiff('')), 0);
});
