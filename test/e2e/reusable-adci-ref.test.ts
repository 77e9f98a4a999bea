// The reusable workflows (deploy.yml, quality.yml), called from another repository, fetch adci at
// `adci-ref`: a tag, a branch or a full commit SHA (what security-minded callers pin). The step's own
// script runs here with bash against a local bare repository standing in for github.com/org/adci
// (GITHUB_SERVER_URL=file://...), for each kind of ref.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../runner/index.ts';

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

function fetchStep(workflow: string): Step {
  const doc = parse(readFileSync(join(repoRoot, '.github', 'workflows', workflow), 'utf8')) as {
    jobs: Record<string, { steps: Step[] }>;
  };
  const steps = Object.values(doc.jobs).flatMap((job) => job.steps ?? []);
  const step = steps.find((s) => s.env?.ADCI_REF !== undefined);
  assert.ok(step?.run, `${workflow}: no step reads ADCI_REF`);
  return step;
}

const IDENTITY = ['-c', 'user.name=adci', '-c', 'user.email=adci@adci.invalid'];

describe('adci-ref: a tag, a branch or a full SHA', () => {
  let dir = '';
  const shas: Record<string, string> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'adci-ref-'));
    const bare = join(dir, 'server', 'org', 'adci.git');
    mkdirSync(bare, { recursive: true });
    execFileSync('git', ['init', '--quiet', '--bare', bare]);
    const work = join(dir, 'adci');
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', work]);
    const git = (...args: string[]) =>
      execFileSync('git', [...IDENTITY, ...args], { cwd: work, encoding: 'utf8' }).trim();
    for (const release of ['1.0.0', '1.1.0']) {
      for (const path of ['blue-green-deploy', 'notify', 'quality-gate', 'dist']) {
        mkdirSync(join(work, path), { recursive: true });
        writeFileSync(join(work, path, 'VERSION'), `${release}\n`);
      }
      git('add', '--all');
      git('commit', '--quiet', '-m', `release ${release}`);
      shas[release] = git('rev-parse', 'HEAD');
    }
    git('tag', 'v1.0.0', shas['1.0.0'] ?? '');
    git('tag', 'v1', shas['1.1.0'] ?? '');
    git('branch', 'next', shas['1.0.0'] ?? '');
    git('push', '--quiet', bare, 'main', 'next', 'v1', 'v1.0.0');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const workflow of ['deploy.yml', 'quality.yml']) {
    test(`${workflow} fetches adci at a tag, a branch and a full commit SHA`, () => {
      const step = fetchStep(workflow);
      assert.doesNotMatch(step.run ?? '', /git clone/);
      const cases: [string, string][] = [
        ['v1', '1.1.0'],
        ['v1.0.0', '1.0.0'],
        ['main', '1.1.0'],
        ['next', '1.0.0'],
        [shas['1.0.0'] ?? '', '1.0.0'],
      ];
      for (const [ref, expected] of cases) {
        const workspace = mkdtempSync(join(dir, 'workspace-'));
        const result = spawnSync('bash', ['-e', '-c', step.run ?? ''], {
          cwd: workspace,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            HOME: dir,
            GITHUB_SERVER_URL: `file://${join(dir, 'server')}`,
            ADCI_REPOSITORY: 'org/adci',
            ADCI_REF: ref,
          },
        });
        assert.equal(result.status, 0, `${ref}: ${result.stderr}${result.stdout}`);
        assert.equal(readFileSync(join(workspace, 'dist', 'VERSION'), 'utf8'), `${expected}\n`, ref);
      }
    });
  }
});
