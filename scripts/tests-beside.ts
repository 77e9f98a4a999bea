// Which engine and adapter modules (packages/*/src, actions/*/src) have logic, and which of them
// have their unit test beside them (`<module>.test.ts` in the same directory). A module has logic
// when it holds a function body (a function, method, arrow function, accessor or constructor);
// one that only declares types, re-exports or constant tables has none. Prints the modules without
// a test and the count; `--json` prints the lists instead.
//
// `--check` (in `npm test`) fails when a module with logic has no test beside it and is not in
// TESTED_ELSEWHERE, the explicit list of modules tested another way, each with where and why; it
// also fails when an entry of that list is stale (the module has a test beside it now, no longer
// has logic, or is gone), so the list stays true.
//
//   node scripts/tests-beside.ts            # the count and the modules left
//   node scripts/tests-beside.ts --json
//   node scripts/tests-beside.ts --check
import { existsSync, globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const root = join(import.meta.dirname, '..');

const ADAPTER = (action: string, tests: string): string =>
  `the ${action} adapter (inputs, GitHub calls, outputs): run end to end through its built bundle ` +
  `(dist/${action}, by test/runner) in ${tests}`;
const ACTIONS_E2E = 'test/e2e/{quality-gate,smoke-test,notify,blue-green-deploy}*.test.ts';

/**
 * Modules with logic whose tests live elsewhere, with where. The adapters are thin front ends whose
 * behaviour is what a workflow sees, so their tests run the built bundles; the CLI commands' run
 * halves are tested through their commands.
 */
export const TESTED_ELSEWHERE: Readonly<Record<string, string>> = {
  'packages/cli/src/commands/gate-run.ts':
    "adci gate's run half (loaded only when the command runs): packages/cli/src/commands/gate.test.ts runs the command (and test/e2e/*-cli.test.ts)",
  'packages/cli/src/commands/notify-run.ts':
    "adci notify's run half (loaded only when the command runs): packages/cli/src/commands/notify.test.ts runs the command (and test/e2e/*-cli.test.ts)",
  'packages/cli/src/commands/smoke-run.ts':
    "adci smoke's run half (loaded only when the command runs): packages/cli/src/commands/smoke.test.ts runs the command (and test/e2e/*-cli.test.ts)",
  'actions/blue-green-deploy/src/exec.ts': ADAPTER('blue-green-deploy', 'test/e2e/blue-green-*.test.ts'),
  'actions/blue-green-deploy/src/main.ts': ADAPTER('blue-green-deploy', 'test/e2e/blue-green-*.test.ts'),
  'actions/common/src/inputs.ts': `the input readers every adapter shares: run through every action's bundle in ${ACTIONS_E2E}`,
  'actions/common/src/run.ts': `the run wrapper every adapter shares (signals, the version footer): run through every action's bundle in ${ACTIONS_E2E}`,
  'actions/notify/src/inputs.ts': ADAPTER('notify', 'test/e2e/notify.test.ts (on the Slack fake)'),
  'actions/notify/src/main.ts': ADAPTER('notify', 'test/e2e/notify.test.ts (on the Slack fake)'),
  'actions/quality-gate/src/annotations.ts': ADAPTER('quality-gate', 'test/e2e/quality-gate*.test.ts'),
  'actions/quality-gate/src/changed-lines.ts': ADAPTER('quality-gate', 'test/e2e/quality-gate*.test.ts'),
  'actions/quality-gate/src/comment.ts': ADAPTER(
    'quality-gate',
    'test/e2e/quality-gate*.test.ts (on the GitHub API fake)',
  ),
  'actions/quality-gate/src/inputs.ts': ADAPTER('quality-gate', 'test/e2e/quality-gate*.test.ts'),
  'actions/quality-gate/src/main.ts': ADAPTER('quality-gate', 'test/e2e/quality-gate*.test.ts'),
  'actions/quality-gate/src/outputs.ts': ADAPTER('quality-gate', 'test/e2e/quality-gate*.test.ts'),
  'actions/quality-gate/src/summary.ts': ADAPTER('quality-gate', 'test/e2e/quality-gate*.test.ts'),
  'actions/smoke-test/src/analysis.ts': ADAPTER('smoke-test', 'test/e2e/smoke-test-analysis.test.ts'),
  'actions/smoke-test/src/inputs.ts': ADAPTER('smoke-test', 'test/e2e/smoke-test*.test.ts'),
  'actions/smoke-test/src/main.ts': ADAPTER('smoke-test', 'test/e2e/smoke-test*.test.ts'),
};

export function hasLogic(source: string, fileName = 'module.ts'): boolean {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      found = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

export interface BesideCount {
  withLogic: string[];
  tested: string[];
  untested: string[];
}

export function countTestsBeside(cwd = root): BesideCount {
  const modules = [...globSync('packages/*/src/**/*.ts', { cwd }), ...globSync('actions/*/src/**/*.ts', { cwd })]
    .filter((path) => !path.endsWith('.test.ts') && !path.endsWith('.d.ts'))
    .sort();
  const withLogic = modules.filter((path) => hasLogic(readFileSync(join(cwd, path), 'utf8'), path));
  const tested = withLogic.filter((path) => existsSync(join(cwd, path.replace(/\.ts$/, '.test.ts'))));
  const untested = withLogic.filter((path) => !tested.includes(path));
  return { withLogic, tested, untested };
}

/** What `--check` reports: modules with logic and no test anywhere we know of, and stale list entries. */
export function checkTestsBeside(count: BesideCount, elsewhere: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const path of count.untested) {
    if (!(path in elsewhere)) {
      problems.push(
        `${path} has logic and no ${path.replace(/^.*\//, '').replace(/\.ts$/, '.test.ts')} beside it: ` +
          'add one (or, if it is tested another way, say where in TESTED_ELSEWHERE in scripts/tests-beside.ts)',
      );
    }
  }
  for (const path of Object.keys(elsewhere)) {
    if (count.tested.includes(path)) {
      problems.push(`${path} has a test beside it now: remove it from TESTED_ELSEWHERE in scripts/tests-beside.ts`);
    } else if (!count.withLogic.includes(path)) {
      problems.push(`${path} is gone or has no logic: remove it from TESTED_ELSEWHERE in scripts/tests-beside.ts`);
    }
  }
  return problems;
}

if (import.meta.main) {
  const count = countTestsBeside();
  const summary = `${count.tested.length} of ${count.withLogic.length} modules with logic have a test beside them`;
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ ...count, testedElsewhere: TESTED_ELSEWHERE }, null, 2)}\n`);
  } else if (process.argv.includes('--check')) {
    const problems = checkTestsBeside(count, TESTED_ELSEWHERE);
    for (const problem of problems) process.stdout.write(`✖ ${problem}\n`);
    process.stdout.write(`${summary}; ${Object.keys(TESTED_ELSEWHERE).length} tested elsewhere (TESTED_ELSEWHERE)\n`);
    if (problems.length > 0) process.exitCode = 1;
  } else {
    for (const path of count.untested) {
      const where = TESTED_ELSEWHERE[path];
      process.stdout.write(`no test beside: ${path}${where ? ` (tested elsewhere: ${where})` : ''}\n`);
    }
    process.stdout.write(`${summary}\n`);
  }
}
