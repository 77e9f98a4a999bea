// Workflow validation rules on planted workflows in temporary repositories: each mistake fails
// with its file and line; the repository's own workflows and actions pass.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateActions, validateVersion, validateWorkflowRules, validateWorkflows } from './validate.ts';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

const CHECKOUT = 'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0';
const ACTION = `name: greet
description: says hello
inputs:
  who:
    description: whom to greet
    required: true
  greeting:
    description: the word
    required: false
    default: hello
  style:
    description: required, but with a default
    required: true
    default: plain
runs:
  using: node24
  main: index.js
`;

/** A repository with ./greet (an action) and the given workflow as .github/workflows/w.yml. */
function repo(workflow: string, extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'adci-validate-'));
  roots.push(root);
  mkdirSync(join(root, 'greet'));
  writeFileSync(join(root, 'greet', 'action.yml'), ACTION);
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(root, '.github', 'workflows', 'w.yml'), workflow);
  for (const [path, text] of Object.entries(extra)) writeFileSync(join(root, path), text);
  return root;
}

const rules = (workflow: string, extra?: Record<string, string>) =>
  validateWorkflowRules(repo(workflow, extra), '.github/workflows/w.yml');

const GOOD = `on: push
permissions: { contents: read }
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      word: \${{ steps.hi.outputs.word }}
    steps:
      - uses: ${CHECKOUT}
      - id: hi
        uses: ./greet
        with:
          who: world
      - if: steps.hi.outcome == 'success'
        env:
          WORD: \${{ steps.hi.outputs.word }}
        run: echo "$WORD"
  ship:
    needs: build
    if: needs.build.result == 'success'
    runs-on: ubuntu-latest
    steps:
      - env:
          WORD: \${{ needs.build.outputs.word }}
        run: echo "$WORD"
`;

test('a correct workflow passes, schema included', () => {
  const root = repo(GOOD);
  assert.deepEqual(validateWorkflows(root), []);
});

test('an input the local action does not declare fails with its line', () => {
  const problems = rules(GOOD.replace('          who: world\n', '          who: world\n          colour: red\n'));
  assert.deepEqual(problems, [
    ".github/workflows/w.yml:14: job 'build', step hi: input 'colour' is not declared by greet/action.yml (it declares: greeting, style, who)",
  ]);
});

test('a missing required input fails; a required input with a default may be left out', () => {
  const problems = rules(GOOD.replace('        with:\n          who: world\n', ''));
  assert.deepEqual(problems, [
    ".github/workflows/w.yml:11: job 'build', step hi: required input 'who' of greet/action.yml is not given",
  ]);
});

test('a local action that does not exist fails', () => {
  const problems = rules(GOOD.replace('uses: ./greet', 'uses: ./gret'));
  assert.deepEqual(problems, [".github/workflows/w.yml:11: job 'build', step hi: ./gret: no action.yml in gret"]);
});

test('an unpinned third-party action fails; tags, branches and short SHAs are not pins', () => {
  for (const ref of ['v5', 'main', '08c6903']) {
    const problems = rules(GOOD.replace(CHECKOUT, `actions/checkout@${ref}`));
    assert.deepEqual(problems, [
      `.github/workflows/w.yml:9: job 'build', step #1: 'actions/checkout@${ref}' is not pinned to a full 40-character commit SHA (add the version as a comment)`,
    ]);
  }
  assert.equal(rules(GOOD.replace(CHECKOUT, 'actions/checkout')).length, 1);
  assert.deepEqual(rules(GOOD.replace(CHECKOUT, 'docker://alpine:3.20')), []);
});

test('an expression inside run: fails with the line of the expression', () => {
  const problems = rules(
    GOOD.replace(
      '        run: echo "$WORD"\n  ship:',
      '        run: |\n          echo start\n          echo "${{ github.head_ref }}"\n  ship:',
    ),
  );
  assert.deepEqual(problems, [
    ".github/workflows/w.yml:19: job 'build', step #3: expression '${{ github.head_ref }}' inside run: (pass it through env: instead)",
  ]);
});

test('needs must name a job of the workflow', () => {
  const problems = rules(GOOD.replace('    needs: build\n', '    needs: [build, bulid]\n'));
  assert.ok(
    problems.includes(".github/workflows/w.yml:19: job 'ship': needs 'bulid', which is not a job of this workflow"),
    problems.join('\n'),
  );
});

test('needs.<job> in an expression must be among the job needs', () => {
  const problems = rules(GOOD.replace('    needs: build\n', ''));
  assert.deepEqual(problems, [
    ".github/workflows/w.yml:19: job 'ship': 'needs.build' is not in this job's needs",
    ".github/workflows/w.yml:23: job 'ship', step #1: 'needs.build' is not in this job's needs",
  ]);
});

test('steps.<id> must be a step of the same job, in expressions and bare if:', () => {
  const problems = rules(
    GOOD.replace("if: steps.hi.outcome == 'success'", "if: steps.hello.outcome == 'success'").replace(
      'word: ${{ steps.hi.outputs.word }}',
      'word: ${{ steps.greet.outputs.word }}',
    ),
  );
  assert.deepEqual(problems, [
    ".github/workflows/w.yml:7: job 'build': 'steps.greet' does not match a step id of this job",
    ".github/workflows/w.yml:14: job 'build', step #3: 'steps.hello' does not match a step id of this job",
  ]);
});

test('a local reusable workflow gets the same input checks', () => {
  const reusable = `on:
  workflow_call:
    inputs:
      environment: { type: string, required: true }
      image: { type: string, required: false }
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - run: echo ok
`;
  const caller = `on: push
jobs:
  deploy:
    uses: ./.github/workflows/deploy.yml
    with:
      image: a
      colour: b
`;
  const root = repo(caller);
  writeFileSync(join(root, '.github', 'workflows', 'deploy.yml'), reusable);
  assert.deepEqual(validateWorkflowRules(root, '.github/workflows/w.yml'), [
    ".github/workflows/w.yml:4: job 'deploy': required input 'environment' of .github/workflows/deploy.yml is not given",
    ".github/workflows/w.yml:7: job 'deploy': input 'colour' is not declared by .github/workflows/deploy.yml (it declares: environment, image)",
  ]);
});

test('a workflow GitHub would reject fails through the parser', () => {
  const root = repo('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n');
  const problems = validateWorkflows(root);
  assert.ok(problems.length > 0 && problems.every((p) => p.startsWith('.github/workflows/w.yml')), problems.join('\n'));
});

test("this repository's actions and workflows pass", () => {
  assert.deepEqual(validateActions(), []);
  assert.deepEqual(validateWorkflows(), []);
});

test('the version in package.json and ADCI_VERSION must agree', () => {
  assert.deepEqual(validateVersion(), []);
  const root = mkdtempSync(join(tmpdir(), 'adci-validate-version-'));
  roots.push(root);
  mkdirSync(join(root, 'packages', 'common', 'src'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{ "version": "1.2.0" }\n');
  writeFileSync(join(root, 'packages', 'common', 'src', 'version.ts'), "export const ADCI_VERSION = '1.1.0';\n");
  assert.deepEqual(validateVersion(root), [
    'packages/common/src/version.ts: ADCI_VERSION is 1.1.0, package.json says 1.2.0',
  ]);
});
