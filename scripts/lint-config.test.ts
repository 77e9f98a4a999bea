// The lint rule that every imported package is declared by the workspace that imports it
// (eslint.config.js `dependencyDeclarations`), on copies of this repository's real package.json
// files and real source files in a temporary tree: as declared they pass; remove the
// declaration and the import is an error naming the package.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { pathToFileURL } from 'node:url';

const repo = join(import.meta.dirname, '..');
// The block exactly as `npm run lint` uses it (a JavaScript module, hence the typed dynamic import).
const { dependencyDeclarations, publicEntryPoints } = (await import(
  pathToFileURL(join(repo, 'eslint.config.js')).href
)) as {
  dependencyDeclarations: Linter.Config;
  publicEntryPoints: Linter.Config;
};
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function readManifest(path: string): Manifest {
  return JSON.parse(readFileSync(join(repo, path), 'utf8')) as Manifest;
}

/**
 * A tree with the root package.json, one workspace's package.json (edited by `edit`) and the
 * repository's node_modules (linked, so imports resolve as they do here). Lints `file`'s real
 * text as if it were at the same path, and returns the rule's messages.
 */
async function lintCopy(
  file: string,
  manifestPath: string,
  edit: (manifest: Manifest) => void = () => {},
): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'adci-deps-'));
  roots.push(root);
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  for (const path of new Set(['package.json', manifestPath])) {
    const manifest = readManifest(path);
    if (path === manifestPath) edit(manifest);
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), JSON.stringify(manifest, null, 2));
  }
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [tseslint.configs.base, dependencyDeclarations],
  });
  const [result] = await eslint.lintText(readFileSync(join(repo, file), 'utf8'), { filePath: join(root, file) });
  assert.ok(result, `no lint result for ${file}`);
  return result.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

const without =
  (section: 'dependencies' | 'devDependencies', name: string) =>
  (manifest: Manifest): void => {
    assert.ok(manifest[section]?.[name], `${name} is in ${section} today`);
    delete manifest[section]?.[name];
  };

test('an engine that imports a package it declares passes; without the declaration it fails', async () => {
  // packages/kube/src/client.ts imports undici for the Kubernetes client's fetch.
  assert.deepEqual(await lintCopy('packages/kube/src/client.ts', 'packages/kube/package.json'), []);
  const messages = await lintCopy(
    'packages/kube/src/client.ts',
    'packages/kube/package.json',
    without('dependencies', 'undici'),
  );
  assert.equal(messages.length, 1, messages.join('\n'));
  assert.match(messages[0] ?? '', /^import-x\/no-extraneous-dependencies: 'undici' should be listed/);
});

test('a workspace package imported by name counts as a dependency to declare', async () => {
  // packages/kube/src/settings.ts imports @adci/common (node_modules/@adci/common -> packages/common).
  assert.deepEqual(await lintCopy('packages/kube/src/settings.ts', 'packages/kube/package.json'), []);
  const messages = await lintCopy(
    'packages/kube/src/settings.ts',
    'packages/kube/package.json',
    without('dependencies', '@adci/common'),
  );
  assert.ok(
    messages.some((m) => m.includes("'@adci/common' should be listed")),
    messages.join('\n'),
  );
});

test("the root's tests and benchmarks declare what they import, as devDependencies", async () => {
  // test/fakes/github-api.ts validates against GitHub's OpenAPI description with ajv (6.x).
  assert.deepEqual(await lintCopy('test/fakes/github-api.ts', 'package.json'), []);
  const ajv = await lintCopy('test/fakes/github-api.ts', 'package.json', without('devDependencies', 'ajv'));
  assert.ok(
    ajv.some((m) => m.includes("'ajv' should be listed")),
    ajv.join('\n'),
  );
  const probe = await lintCopy('bench/smoke.ts', 'package.json', without('devDependencies', '@adci/probe'));
  assert.ok(
    probe.some((m) => m.includes("'@adci/probe' should be listed")),
    probe.join('\n'),
  );
});

test('engine sources may not import a devDependency; their tests may', async () => {
  // packages/reports declares saxes as a devDependency (its XML scanner's tests compare against it).
  const manifest = readManifest('packages/reports/package.json');
  assert.ok(manifest.devDependencies?.saxes, 'saxes is a devDependency of @adci/reports');
  const root = mkdtempSync(join(tmpdir(), 'adci-deps-'));
  roots.push(root);
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  mkdirSync(join(root, 'packages/reports'), { recursive: true });
  writeFileSync(join(root, 'package.json'), readFileSync(join(repo, 'package.json')));
  writeFileSync(join(root, 'packages/reports/package.json'), JSON.stringify(manifest));
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [tseslint.configs.base, dependencyDeclarations],
  });
  const code = "import { SaxesParser } from 'saxes';\nexport const parser = new SaxesParser();\n";
  const [source] = await eslint.lintText(code, { filePath: join(root, 'packages/reports/src/xml/scanner.ts') });
  assert.match(
    source?.messages[0]?.message ?? '',
    /'saxes' should be listed in the project's dependencies, not devDependencies/,
  );
  const [spec] = await eslint.lintText(code, { filePath: join(root, 'packages/reports/src/xml/scanner.test.ts') });
  assert.deepEqual(spec?.messages, []);
});

test('the tests under test/ import the engines through their public entry points, not their sources', async () => {
  const eslint = new ESLint({
    cwd: repo,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'] }, tseslint.configs.base, publicEntryPoints],
  });
  const lint = async (code: string, file: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath: join(repo, file) });
    return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
  };
  // test/e2e/probe-proxy.test.ts, as it reads today.
  const real = readFileSync(join(repo, 'test/e2e/probe-proxy.test.ts'), 'utf8');
  assert.deepEqual(await lint(real, 'test/e2e/probe-proxy.test.ts'), []);
  for (const from of [
    '../../packages/probe/src/index.ts',
    '../../packages/probe/src/http.ts',
    '../../actions/smoke-test/src/inputs.ts',
    '@adci/probe/src/http.ts',
  ]) {
    const messages = await lint(`import { x } from '${from}';\nexport { x };\n`, 'test/e2e/probe-proxy.test.ts');
    assert.equal(messages.length, 1, `${from}: ${messages.join('\n')}`);
    assert.match(messages[0] ?? '', /^no-restricted-imports: .*public entry point/);
  }
  // Public entry points, the built bundles and the test helpers pass; engine tests beside their
  // modules are not under test/ and import their neighbours.
  for (const from of ['@adci/probe', '@adci/common/basics', '../../dist/cli/index.js', '../cluster/testing.ts']) {
    assert.deepEqual(await lint(`import { x } from '${from}';\nexport { x };\n`, 'test/e2e/any.test.ts'), [], from);
  }
  assert.deepEqual(
    await lint("import { x } from './http.ts';\nexport { x };\n", 'packages/probe/src/load.test.ts'),
    [],
  );
});
