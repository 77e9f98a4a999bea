// Validates every action.yml and every workflow file offline: GitHub's own parser
// (@actions/workflow-parser), each action's metadata against its bundle layout, and the rules the
// parser does not know: `uses: ./<action>` steps pass only declared inputs and every required one
// (the same for local reusable workflows), `needs` and `steps.<id>`/`needs.<job>` references
// resolve, third-party `uses:` are pinned to a full commit SHA, and no `${{ }}` sits inside `run:`
// (pass values through `env:`). Every problem names its file and line.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { registerHooks } from 'node:module';
import { isMap, isScalar, isSeq, LineCounter, parse as parseYaml, parseDocument, type Node } from 'yaml';
import { scalarText } from '@adci/common';

// The parser imports its JSON schemas without `with { type: 'json' }` (it expects a bundler).
registerHooks({
  load(url, context, nextLoad) {
    return url.endsWith('.json')
      ? nextLoad(url, { ...context, importAttributes: { type: 'json' } })
      : nextLoad(url, context);
  },
});
const { NoOperationTraceWriter, parseWorkflow } = await import('@actions/workflow-parser');
const { parseAction } = await import('@actions/workflow-parser/actions/action-parser');

const repositoryRoot = join(import.meta.dirname, '..');

function errorsOf(result: { context: { errors: { getErrors(): { message: string }[] } } }): string[] {
  return result.context.errors.getErrors().map((e) => e.message);
}

export function actionNames(root = repositoryRoot): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'action.yml')))
    .map((d) => d.name)
    .sort();
}

/** Checks each top-level action's metadata: GitHub's schema, node24, and its bundle in dist/. */
export function validateActions(root = repositoryRoot): string[] {
  const problems: string[] = [];
  for (const name of actionNames(root)) {
    const path = join(root, name, 'action.yml');
    const content = readFileSync(path, 'utf8');
    for (const message of errorsOf(
      parseAction({ name: `${name}/action.yml`, content }, new NoOperationTraceWriter()),
    )) {
      problems.push(`${name}/action.yml: ${message}`);
    }
    const metadata = parseYaml(content) as { runs?: { using?: string; main?: string; post?: string } };
    if (metadata.runs?.using !== 'node24') problems.push(`${name}/action.yml: runs.using must be node24`);
    if (metadata.runs?.main !== `../dist/${name}/index.js`) {
      problems.push(`${name}/action.yml: runs.main must be ../dist/${name}/index.js`);
    }
    for (const script of [metadata.runs?.main, metadata.runs?.post].filter(Boolean) as string[]) {
      if (!existsSync(join(root, name, script)))
        problems.push(`${name}/action.yml: ${script} does not exist (npm run build)`);
    }
  }
  return problems;
}

interface DeclaredInputs {
  /** Where the declaration lives, for messages. */
  source: string;
  names: Set<string>;
  required: string[];
}

function inputsOf(declared: unknown, source: string): DeclaredInputs {
  const names = new Set<string>();
  const required: string[] = [];
  if (declared && typeof declared === 'object') {
    for (const [name, spec] of Object.entries(declared as Record<string, unknown>)) {
      names.add(name);
      const s = (spec ?? {}) as { required?: unknown; default?: unknown };
      if ((s.required === true || s.required === 'true') && s.default === undefined) required.push(name);
    }
  }
  return { source, names, required };
}

/** The inputs of a local `uses: ./path` target: an action directory or a reusable workflow file. */
function localTarget(root: string, uses: string): DeclaredInputs | string {
  const target = resolve(root, uses);
  if (!target.startsWith(resolve(root))) return `${uses} points outside the repository`;
  const source = relative(root, target) || '.';
  if (/\.ya?ml$/.test(uses)) {
    if (!existsSync(target)) return `${uses}: no such workflow file`;
    const workflow = parseYaml(readFileSync(target, 'utf8')) as { on?: Record<string, unknown> } | null;
    const on = workflow?.on;
    const call = on && typeof on === 'object' && !Array.isArray(on) ? on['workflow_call'] : undefined;
    if (call === undefined) return `${uses} is not a reusable workflow (no on.workflow_call)`;
    return inputsOf(typeof call === 'object' && call !== null && 'inputs' in call ? call.inputs : undefined, source);
  }
  const file = ['action.yml', 'action.yaml'].map((f) => join(target, f)).find((f) => existsSync(f));
  if (!file) return `${uses}: no action.yml in ${source}`;
  const action = parseYaml(readFileSync(file, 'utf8')) as { inputs?: unknown } | null;
  return inputsOf(action?.inputs, relative(root, file));
}

const SHA = /^[0-9a-f]{40}$/;
const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;

/** Checks one workflow file beyond GitHub's schema; `file` is relative to `root`. */
export function validateWorkflowRules(root: string, file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: false });
  const lineOf = (node: Node | null | undefined, offset = 0): number =>
    node?.range ? lines.linePos(node.range[0] + offset).line : 1;
  const found: { line: number; message: string }[] = [];
  const report = (node: Node | null | undefined, message: string, offset = 0) =>
    found.push({ line: lineOf(node, offset), message: `${file}:${lineOf(node, offset)}: ${message}` });

  const jobs = doc.get('jobs', true);
  if (!isMap(jobs)) return [];
  const jobIds = new Set(jobs.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key)));

  const checkUses = (usesNode: Node, withNode: unknown, where: string) => {
    const uses = String(isScalar(usesNode) ? usesNode.value : '');
    if (uses.startsWith('./')) {
      const target = localTarget(root, uses);
      if (typeof target === 'string') {
        report(usesNode, `${where}: ${target}`);
        return;
      }
      const given = new Map<string, Node>();
      if (isMap(withNode)) {
        for (const pair of withNode.items)
          given.set(String(isScalar(pair.key) ? pair.key.value : pair.key), pair.key as Node);
      }
      for (const [name, keyNode] of given) {
        if (!target.names.has(name)) {
          const known = [...target.names].sort().join(', ') || 'none';
          report(keyNode, `${where}: input '${name}' is not declared by ${target.source} (it declares: ${known})`);
        }
      }
      for (const name of target.required) {
        if (!given.has(name)) report(usesNode, `${where}: required input '${name}' of ${target.source} is not given`);
      }
    } else if (!uses.startsWith('docker://')) {
      const ref = uses.includes('@') ? uses.slice(uses.lastIndexOf('@') + 1) : '';
      if (!SHA.test(ref)) {
        report(
          usesNode,
          `${where}: '${uses}' is not pinned to a full 40-character commit SHA (add the version as a comment)`,
        );
      }
    }
  };

  // Reports `steps.<id>` and `needs.<job>` references in every expression under `node`.
  const checkReferences = (
    node: unknown,
    stepIds: Set<string> | undefined,
    needs: Set<string>,
    where: string,
    bareIf = false,
  ) => {
    const visit = (n: unknown, bare: boolean) => {
      if (isMap(n)) {
        for (const pair of n.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : '';
          visit(pair.value, key === 'if');
        }
      } else if (isSeq(n)) {
        for (const item of n.items) visit(item, false);
      } else if (isScalar(n) && typeof n.value === 'string') {
        const value = n.value;
        const expressions = [...value.matchAll(EXPRESSION)].map((m) => m[1] ?? '');
        // `if:` is an expression even without ${{ }}.
        if (bare && !value.includes('${{')) expressions.push(value);
        for (const expression of expressions) {
          for (const m of expression.matchAll(/\bsteps\.([A-Za-z_][\w-]*)/g)) {
            const id = m[1] ?? '';
            if (stepIds && !stepIds.has(id)) report(n, `${where}: 'steps.${id}' does not match a step id of this job`);
            if (!stepIds) report(n, `${where}: 'steps.${id}' used outside a job's steps`);
          }
          for (const m of expression.matchAll(/\bneeds\.([A-Za-z_][\w-]*)/g)) {
            const id = m[1] ?? '';
            if (!needs.has(id)) report(n, `${where}: 'needs.${id}' is not in this job's needs`);
          }
        }
      }
    };
    visit(node, bareIf);
  };

  for (const pair of jobs.items) {
    const jobId = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const job = pair.value;
    if (!isMap(job)) continue;
    const where = `job '${jobId}'`;

    const needsNode = job.get('needs', true) as Node | undefined;
    const needs = new Set<string>();
    const needItems = isSeq(needsNode) ? needsNode.items : needsNode ? [needsNode] : [];
    for (const item of needItems) {
      const id = String(isScalar(item) ? item.value : '');
      needs.add(id);
      if (!jobIds.has(id)) report(item as Node, `${where}: needs '${id}', which is not a job of this workflow`);
      if (id === jobId) report(item as Node, `${where}: needs itself`);
    }

    const jobUses = job.get('uses', true) as Node | undefined;
    if (jobUses) checkUses(jobUses, job.get('with', true), where);

    const steps = job.get('steps', true);
    const stepIds = new Set<string>();
    if (isSeq(steps)) {
      for (const step of steps.items) {
        if (!isMap(step)) continue;
        const id = step.get('id', true);
        if (isScalar(id)) stepIds.add(String(id.value));
      }
      steps.items.forEach((step, index) => {
        if (!isMap(step)) return;
        const name = step.get('id') ?? step.get('name') ?? `#${index + 1}`;
        const stepWhere = `${where}, step ${scalarText(name)}`;
        const uses = step.get('uses', true) as Node | undefined;
        if (uses) checkUses(uses, step.get('with', true), stepWhere);
        const run = step.get('run', true) as Node | undefined;
        if (isScalar(run) && typeof run.value === 'string' && run.range) {
          const source = text.slice(run.range[0], run.range[1]);
          const at = source.indexOf('${{');
          if (at >= 0) {
            report(
              run,
              `${stepWhere}: expression '${source.slice(at, source.indexOf('}}', at) + 2 || at + 3)}' inside run: (pass it through env: instead)`,
              at,
            );
          }
        }
        checkReferences(step, stepIds, needs, stepWhere);
      });
    }
    // Job-level fields: outputs read this job's steps; if, env, with, strategy… only needs.
    for (const field of job.items) {
      const key = isScalar(field.key) ? String(field.key.value) : '';
      if (key === 'steps' || key === 'needs' || key === 'uses') continue;
      checkReferences(field.value, key === 'outputs' ? stepIds : undefined, needs, where, key === 'if');
    }
  }
  return found.sort((a, b) => a.line - b.line).map((p) => p.message);
}

/** Every workflow directory's files: GitHub's schema, then the rules above. */
export function validateWorkflows(root = repositoryRoot, dirs?: string[]): string[] {
  const problems: string[] = [];
  const workflowDirs = dirs ?? [
    join(root, '.github', 'workflows'),
    join(root, 'examples', 'ad-platform', '.github', 'workflows'),
  ];
  for (const dir of workflowDirs.filter((d) => existsSync(d))) {
    for (const name of readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()) {
      const file = relative(root, join(dir, name));
      const content = readFileSync(join(root, file), 'utf8');
      const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
      for (const message of errorsOf(result)) problems.push(`${file}: ${message}`);
      problems.push(...validateWorkflowRules(root, file));
    }
  }
  return problems;
}

/** package.json's version is the one the code reports (ADCI_VERSION): `adci --version`, summaries, JSON. */
export function validateVersion(root = repositoryRoot): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  const source = readFileSync(join(root, 'packages', 'common', 'src', 'version.ts'), 'utf8');
  const declared = /export const ADCI_VERSION = '([^']*)';/.exec(source)?.[1];
  return declared === manifest.version
    ? []
    : [
        `packages/common/src/version.ts: ADCI_VERSION is ${declared ?? 'missing'}, package.json says ${manifest.version ?? 'nothing'}`,
      ];
}

if (import.meta.main) {
  const problems = [...validateVersion(), ...validateActions(), ...validateWorkflows()];
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`validated ${actionNames().length} action.yml file(s) and the workflows\n`);
}
