// The layering of the design, checked on the import graph of every engine and adapter module
// (static, type-only and dynamic imports alike): engines (packages/*) never import an adapter
// (actions/*) or @actions/*; a package imports only the @adci packages its package.json declares, so
// the package graph has no cycle and no import runs back up a floor; and no module cycle inside a
// package (a type-only cycle included: it ties two modules as surely as a value one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = join(import.meta.dirname, '..');

interface Workspace {
  name: string;
  dir: string;
  adciDeps: string[];
}

const workspaces: Workspace[] = [
  ...globSync('packages/*/package.json', { cwd: root }),
  ...globSync('actions/*/package.json', { cwd: root }),
].map((file) => {
  const json = JSON.parse(readFileSync(join(root, file), 'utf8')) as { name: string; dependencies?: object };
  return {
    name: json.name,
    dir: dirname(file),
    adciDeps: Object.keys(json.dependencies ?? {}).filter((d) => d.startsWith('@adci/')),
  };
});

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

const modules = workspaces.flatMap((w) =>
  globSync(`${w.dir}/src/**/*.ts`, { cwd: root }).filter((f) => !f.endsWith('.test.ts') && !f.endsWith('.d.ts')),
);

test('engines import no adapter and no @actions/* package', () => {
  const wrong: string[] = [];
  for (const file of modules.filter((f) => f.startsWith('packages/'))) {
    for (const spec of importsOf(file)) {
      if (spec.startsWith('@actions/') || spec.startsWith('@adci/action-')) wrong.push(`${file} imports ${spec}`);
      if (spec.startsWith('.') && relative(root, resolve(root, dirname(file), spec)).startsWith('actions/'))
        wrong.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('each package imports only the @adci packages it declares, and the package graph has no cycle', () => {
  const undeclared: string[] = [];
  for (const w of workspaces) {
    for (const file of modules.filter((f) => f.startsWith(`${w.dir}/`))) {
      for (const spec of importsOf(file)) {
        const pkg = /^(@adci\/[^/]+)/.exec(spec)?.[1];
        if (pkg && pkg !== w.name && !w.adciDeps.includes(pkg)) undeclared.push(`${file} imports ${pkg}`);
        if (spec.startsWith('.') && !relative(root, resolve(root, dirname(file), spec)).startsWith(`${w.dir}/`))
          undeclared.push(`${file} reaches outside its package: ${spec}`);
      }
    }
  }
  assert.deepEqual(undeclared, []);
  const deps = new Map(workspaces.map((w) => [w.name, w.adciDeps]));
  assert.deepEqual(cycles(deps), []);
});

test('no module cycle inside a package', () => {
  const graph = new Map<string, string[]>();
  for (const file of modules) {
    const local = importsOf(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(root, resolve(root, dirname(file), spec)))
      .filter((target) => modules.includes(target));
    graph.set(file, local);
  }
  assert.deepEqual(cycles(graph), []);
});

/** Every cycle found by a depth-first walk, as "a -> b -> a". */
function cycles(graph: Map<string, readonly string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}
