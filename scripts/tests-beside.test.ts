// scripts/tests-beside.ts: what counts as logic, the count over a tree, and the check `npm test`
// runs (a module with logic and no test fails unless listed as tested elsewhere; stale entries fail).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkTestsBeside, countTestsBeside, hasLogic, TESTED_ELSEWHERE } from './tests-beside.ts';

const tree = mkdtempSync(join(tmpdir(), 'adci-beside-'));
after(() => rmSync(tree, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(tree, path)), { recursive: true });
  writeFileSync(join(tree, path), text);
}

test('hasLogic: any function body; types, re-exports, constants and declarations are not logic', () => {
  assert.equal(hasLogic('export function f() { return 1; }'), true);
  assert.equal(hasLogic('export const f = (x: number) => x + 1;'), true);
  assert.equal(hasLogic('export class A { get x() { return 1; } }'), true);
  assert.equal(hasLogic('export class A { constructor() {} }'), true);
  assert.equal(hasLogic('export const T = { a: [1, 2] } as const;\nexport type X = { f(): void };'), false);
  assert.equal(hasLogic("export * from './a.ts';\nexport { b } from './b.ts';"), false);
  assert.equal(hasLogic('export declare function f(): void;\nexport interface I { m(): void }'), false);
});

test('countTestsBeside and the check: untested modules fail unless listed; stale entries fail', () => {
  write('packages/x/src/tested.ts', 'export const f = () => 1;');
  write('packages/x/src/tested.test.ts', "import './tested.ts';");
  write('packages/x/src/untested.ts', 'export function g() {}');
  write('packages/x/src/types.ts', 'export interface T { a: string }');
  write('actions/y/src/main.ts', 'export async function run() {}');
  const count = countTestsBeside(tree);
  assert.deepEqual(count, {
    withLogic: ['actions/y/src/main.ts', 'packages/x/src/tested.ts', 'packages/x/src/untested.ts'],
    tested: ['packages/x/src/tested.ts'],
    untested: ['actions/y/src/main.ts', 'packages/x/src/untested.ts'],
  });
  const problems = checkTestsBeside(count, { 'actions/y/src/main.ts': 'its bundle, end to end' });
  assert.deepEqual(problems, [
    'packages/x/src/untested.ts has logic and no untested.test.ts beside it: add one (or, if it is tested another way, say where in TESTED_ELSEWHERE in scripts/tests-beside.ts)',
  ]);
  assert.deepEqual(
    checkTestsBeside(count, {
      'actions/y/src/main.ts': 'e2e',
      'packages/x/src/untested.ts': 'elsewhere',
      'packages/x/src/tested.ts': 'elsewhere',
      'packages/x/src/types.ts': 'elsewhere',
      'packages/x/src/gone.ts': 'elsewhere',
    }),
    [
      'packages/x/src/tested.ts has a test beside it now: remove it from TESTED_ELSEWHERE in scripts/tests-beside.ts',
      'packages/x/src/types.ts is gone or has no logic: remove it from TESTED_ELSEWHERE in scripts/tests-beside.ts',
      'packages/x/src/gone.ts is gone or has no logic: remove it from TESTED_ELSEWHERE in scripts/tests-beside.ts',
    ],
  );
});

// Whether this repository passes is `npm test`'s own step (node scripts/tests-beside.ts --check).
test('every entry of TESTED_ELSEWHERE says where its tests are', () => {
  for (const [path, where] of Object.entries(TESTED_ELSEWHERE)) assert.match(where, /test\//, path);
});
