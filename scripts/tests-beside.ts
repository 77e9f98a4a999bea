// Which engine and adapter modules (packages/*/src, actions/*/src) have logic, and which of them
// have their unit test beside them (`<module>.test.ts` in the same directory). A module has logic
// when it holds a function body (a function, method, arrow function, accessor or constructor);
// one that only declares types, re-exports or constant tables has none. Prints the modules without
// a test and the count; `--json` prints the lists instead.
//
//   node scripts/tests-beside.ts            # the count and the modules left
//   node scripts/tests-beside.ts --json
import { existsSync, globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const root = join(import.meta.dirname, '..');

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

if (import.meta.main) {
  const count = countTestsBeside();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(count, null, 2)}\n`);
  } else {
    for (const path of count.untested) process.stdout.write(`no test beside: ${path}\n`);
    process.stdout.write(
      `${count.tested.length} of ${count.withLogic.length} modules with logic have a test beside them\n`,
    );
  }
}
