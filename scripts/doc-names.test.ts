// Documents that cannot lie: every code identifier and every repository path that docs/ and the
// READMEs write in backticks exists in the tree, so a renamed function or a moved file fails here
// instead of misleading the next reader.
//
// The rule, applied to each inline `code span` (fenced blocks are examples, not references):
// - A code identifier is a span that is a name, optionally qualified and called (`readString`,
//   `core.setFailed`, `runBlueGreen(settings, ports)`, `kubectlJson<T>(args)`,
//   `namedCluster(name).nodeAddress`), and each of its segments that is camelCase or PascalCase with
//   two words or more (`setFailed`, `KubePort`) or an UPPER_SNAKE name (`ADCI_VERSION`) must occur as a
//   word in some file of the tree other than the documents (sources, tests, fixtures, workflows; not
//   dist/ nor package-lock.json). Lower-case words (`deploy`, `core`), single capitalised words
//   (`Logger`, `Authorization`), input names and flags (`base-url`, `--json`), values (`v1`, `10s`,
//   `p(95)<200`) and commands (`npm test`) are not identifiers: they name things of the world or of
//   the action's interface, which the action-docs and validation tests cover. Fields of other
//   projects' formats that no file of the tree spells (an Argo Rollouts field compared with ours) are
//   listed in NOT_IN_TREE with where they come from.
// - A repository path is a span without spaces made of path segments, not starting with `/`, `~`,
//   `$` or `-`, that ends in a known file extension or in `/`, or whose first segment is a folder
//   (`apps/v1` and `adci.dev/app` are not: no such folder); a name with no `/` is a path only when
//   it ends in a source extension (`steps.ts`: a file of that name anywhere). It resolves against
//   the document's folder or any folder above it up to the root (a README says `src/deploy.ts`), or
//   against a folder the document named before it ("fixtures are in `test/fixtures/reports/`", then
//   `real/jacoco.xml`); `<placeholder>` and `*` match any name; at least one file or folder of the
//   tree (git's files, tracked or not ignored) must match. Names of files a run writes
//   (`shard-i-of-n.json`) are values, not paths: they have no folder and no source extension. Paths
//   of other projects and of files a run creates are listed in NOT_IN_TREE.
// - A package specifier `@adci/<name>[/<entry>]` names a workspace and one of its exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, matchesGlob, posix } from 'node:path';

const root = join(import.meta.dirname, '..');

// What the documents name on purpose that is not in this tree: other projects' names and files
// (compared with, quoted, or where a format comes from), and files a run or the reader creates.
const NOT_IN_TREE = new Map<string, string>([
  ['previewReplicaCount', "Argo Rollouts' blue-green strategy"],
  ['abortScaleDownDelaySeconds', "Argo Rollouts' blue-green strategy"],
  ['rollout/bluegreen.go', 'Argo Rollouts'],
  ['input-helper.ts', 'actions/checkout'],
  ['actions/setup-node', 'an action of GitHub'],
  ['actions/download-artifact', 'an action of GitHub'],
  ['templates/tests/', "a Helm chart's test folder"],
  ['./staging/src/', "Kubernetes' own go.mod"],
  ['ifTrue', 'an Artillery construct smoke-test refuses'],
  ['pip_audit/_format/json.py', "pip-audit's source"],
  ['safety/formatters/json.py', "safety's source"],
  ['shop/legacy.py', 'added by regenerate-failed-scans.sh while it runs'],
  ['web/src/broken.js', 'added by regenerate-failed-scans.sh while it runs'],
  ['web/', "a folder of a user's repository, as an example"],
  ['try-notify.ts', 'a file the README asks the reader to write'],
  ['reports/junit/pytest.xml', "written by the example's quality.py"],
  ['reports/coverage.xml', "written by the example's quality.py"],
  ['logs/<name>.log', "the local cluster's state folder in ~/.cache"],
  ['pids/<name>.json', "the local cluster's state folder in ~/.cache"],
  ['logs/pods/<ns>_<pod>_<uid>/<container>/<restart>.log', "the local cluster's state folder in ~/.cache"],
]);

const SOURCE_EXTENSIONS = ['ts', 'js', 'mjs', 'cjs', 'go', 'py', 'sh'];
const FILE_EXTENSIONS = [
  ...SOURCE_EXTENSIONS,
  ...['json', 'yml', 'yaml', 'md', 'mod', 'sum', 'txt', 'xml', 'sarif', 'lcov', 'hlog', 'patch', 'csv', 'toml'],
  ...['lock', 'cfg', 'ini', 'tgz', 'log', 'db', 'mts'],
];

function treeFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return out
    .split('\0')
    .filter((f) => f !== '')
    .filter((f) => {
      try {
        return statSync(join(root, f)).isFile();
      } catch {
        return false; // deleted in the working tree
      }
    });
}

const files = treeFiles();
const entries = new Set<string>(); // every file and every folder of the tree
for (const f of files) {
  entries.add(f);
  for (let d = dirname(f); d !== '.'; d = dirname(d)) entries.add(d);
}
const documents = files.filter((f) => f.endsWith('.md') && (f.startsWith('docs/') || /(^|\/)README\.md$/.test(f)));

const words = new Set<string>();
for (const f of files) {
  if (f.endsWith('.md') || f.startsWith('dist/') || f.endsWith('package-lock.json')) continue;
  if (f === 'scripts/doc-names.test.ts') continue; // this file names what must not exist
  if (statSync(join(root, f)).size > 4 * 1024 * 1024) continue;
  for (const m of readFileSync(join(root, f), 'utf8').matchAll(/[A-Za-z_$][\w$]*/g)) words.add(m[0]);
}

/** Inline code spans of a Markdown text, outside fenced blocks, with their line numbers. */
export function codeSpans(markdown: string): { text: string; line: number }[] {
  const spans: { text: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    for (const m of line.matchAll(/(`+)(.+?)\1/g)) spans.push({ text: (m[2] ?? '').trim(), line: i + 1 });
  });
  return spans;
}

/** The identifier segments of a span that must exist, or undefined when the span is not a name. */
export function identifiers(span: string): string[] | undefined {
  let s = span;
  for (let previous = ''; previous !== s;) {
    previous = s;
    s = s.replace(/\([^()]*\)/g, '').replace(/<[\w$, ]*>/g, '');
  }
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(s)) return undefined;
  return s.split('.').filter((segment) => /[a-z][A-Z]/.test(segment) || /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(segment));
}

/** The path a span names, or undefined when the span is not a repository path. */
export function repositoryPath(span: string): string | undefined {
  if (/\s/.test(span) || /^[/~$\-@{]/.test(span) || /^[a-z]+:/i.test(span)) return undefined;
  if (!/^[\w.<>*-]+(\/[\w.<>*-]*)*$/.test(span)) return undefined;
  const extension = /\.([a-z]+)$/.exec(span)?.[1];
  if (!span.includes('/')) {
    return extension !== undefined && SOURCE_EXTENSIONS.includes(extension) && !span.startsWith('.') ? span : undefined;
  }
  if (extension !== undefined && FILE_EXTENSIONS.includes(extension)) return span;
  if (span.endsWith('/')) return span;
  return undefined; // `apps/v1`, `adci.dev/app`: first segment checked by the caller
}

/** Whether a path matches a file or folder of the tree, from one of the folders `bases`. */
function exists(path: string, bases: string[]): boolean {
  const pattern = path.replace(/<[^>]*>/g, '*').replace(/\/+$/, '');
  if (!path.includes('/')) return files.some((f) => matchesGlob(posix.basename(f), pattern)); // `steps.ts`
  return bases.some((base) => {
    const candidate = posix.normalize(base === '.' ? pattern : `${base}/${pattern}`);
    if (candidate.startsWith('..')) return false;
    return /[*?]/.test(candidate) ? [...entries].some((e) => matchesGlob(e, candidate)) : entries.has(candidate);
  });
}

/** The folder of the tree a path names, from one of `bases`, if it is one. */
function folderOf(path: string, bases: string[]): string | undefined {
  if (/[*<]/.test(path)) return undefined;
  for (const base of bases) {
    const candidate = posix.normalize(base === '.' ? path : `${base}/${path}`).replace(/\/+$/, '');
    if (entries.has(candidate) && !files.includes(candidate)) return candidate;
  }
  return undefined;
}

function ancestors(dir: string): string[] {
  const out = [dir];
  for (let d = dir; d !== '.';) out.push((d = posix.dirname(d)));
  return out;
}

function firstSegmentIsFolder(span: string, bases: string[]): boolean {
  if (/\s/.test(span) || /^[/~$\-@{]/.test(span) || !span.includes('/')) return false;
  if (!/^[\w.-]+(\/[\w.<>*-]*)+$/.test(span)) return false;
  return folderOf(span.split('/')[0] ?? '', bases) !== undefined;
}

interface Workspace {
  name: string;
  exports?: Record<string, unknown> | string;
}
const workspaces = new Map<string, Workspace>();
for (const f of files.filter((f) => /^(packages|actions)\/[^/]+\/package\.json$/.test(f))) {
  const manifest = JSON.parse(readFileSync(join(root, f), 'utf8')) as Workspace;
  workspaces.set(manifest.name, manifest);
}

function packageProblem(span: string): string | undefined {
  const m = /^(@adci\/[\w-]+)(\/[\w-]+)?$/.exec(span);
  if (!m?.[1]) return undefined;
  const workspace = workspaces.get(m[1]);
  if (!workspace) return `no workspace is named ${m[1]}`;
  if (m[2] === undefined) return undefined;
  const exported = typeof workspace.exports === 'object' ? Object.keys(workspace.exports) : [];
  return exported.includes(`.${m[2]}`) ? undefined : `${m[1]} exports no ${m[2].slice(1)}`;
}

/** What a document says that the tree does not hold: `file:line: message` lines. */
export function problems(document: string, markdown = readFileSync(join(root, document), 'utf8')): string[] {
  const found: string[] = [];
  // Paths resolve against the document's folder and those above it, then also against each folder
  // the document has named before (`test/fixtures/reports/`, then `sample-project/` in it).
  const bases = ancestors(posix.dirname(document));
  for (const { text, line } of codeSpans(markdown)) {
    const where = `${document}:${line}`;
    if (NOT_IN_TREE.has(text)) continue;
    for (const name of identifiers(text) ?? []) {
      if (!words.has(name) && !NOT_IN_TREE.has(name))
        found.push(`${where}: \`${text}\`: no file of the tree has ${name}`);
    }
    const pkg = packageProblem(text);
    if (pkg !== undefined) found.push(`${where}: \`${text}\`: ${pkg}`);
    const path = repositoryPath(text) ?? (firstSegmentIsFolder(text, bases) ? text : undefined);
    if (path === undefined) continue;
    if (!exists(path, bases)) found.push(`${where}: \`${text}\`: no such file or folder`);
    const folder = folderOf(path, bases);
    if (folder !== undefined && !bases.includes(folder)) bases.unshift(folder);
  }
  return found;
}

test('the rule tells identifiers and paths from values', () => {
  assert.deepEqual(identifiers('switchActiveService'), ['switchActiveService']);
  assert.deepEqual(identifiers('core.setFailed'), ['setFailed']);
  assert.deepEqual(identifiers('runBlueGreen(settings, ports)'), ['runBlueGreen']);
  assert.deepEqual(identifiers('kubectlJson<T>(args)'), ['kubectlJson']);
  assert.deepEqual(identifiers('namedCluster(name).nodeAddress'), ['namedCluster', 'nodeAddress']);
  assert.deepEqual(identifiers('ADCI_VERSION'), ['ADCI_VERSION']);
  assert.deepEqual(identifiers('deploy'), []);
  assert.deepEqual(identifiers('Logger'), []);
  for (const value of ['v1', 'base-url', '--json', 'p(95)<200', 'npm test', '10s', 'load.*'])
    assert.deepEqual(identifiers(value) ?? [], [], value);
  assert.equal(repositoryPath('packages/kube/src/steps.ts'), 'packages/kube/src/steps.ts');
  assert.equal(repositoryPath('steps.ts'), 'steps.ts');
  assert.equal(repositoryPath('test/cluster/'), 'test/cluster/');
  for (const value of ['shard-i-of-n.json', 'apps/v1', 'adci.dev/app', '~/.cache/adci/', '/health', '@adci/kube'])
    assert.equal(repositoryPath(value), undefined, value);
  assert.ok(exists('dist/<action>/index.js', ['.']));
  assert.ok(!exists('packages/kube/src/nothing-here.ts', ['.']));
  assert.deepEqual(
    problems('docs/example.md', 'The switch is `switchActiveService` in `packages/kube/src/switch.ts`.\n'),
    [
      'docs/example.md:1: `switchActiveService`: no file of the tree has switchActiveService',
      'docs/example.md:1: `packages/kube/src/switch.ts`: no such file or folder',
    ],
  );
  assert.deepEqual(problems('docs/example.md', 'It is `switchTraffic` in `packages/kube/src/steps.ts`.\n'), []);
  assert.deepEqual(problems('docs/example.md', '`@adci/kube/nothing` and `@adci/nothing`\n'), [
    'docs/example.md:1: `@adci/kube/nothing`: @adci/kube exports no nothing',
    'docs/example.md:1: `@adci/nothing`: no workspace is named @adci/nothing',
  ]);
});

test('every identifier and repository path in docs/ and the READMEs exists', () => {
  assert.ok(documents.includes('docs/architecture.md') && documents.includes('README.md'));
  const found = documents.flatMap((d) => problems(d));
  assert.deepEqual(found, [], `documents name what the tree does not hold:\n${found.join('\n')}`);
});
