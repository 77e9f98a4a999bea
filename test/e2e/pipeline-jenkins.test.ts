// examples/ad-platform/Jenkinsfile without a Jenkins server (none can run here): its `sh` steps run in
// stage order as Jenkins runs them (each script written to a file and run with `sh -xe`, in the
// workspace), with the variables Jenkins sets for a multibranch build (JENKINS_URL, BUILD_URL,
// BUILD_NUMBER, JOB_NAME, BRANCH_NAME, GIT_COMMIT, GIT_URL, WORKSPACE...), the pipeline's
// `environment {}` block, and `withCredentials` bindings from test credentials. A stage's
// `when { branch ... }` decides whether it runs; `input` is approved; the pipeline's `post`
// block for the outcome runs last. What Jenkins itself adds (agents, locks, the junit step) is not
// exercised. The develop pipeline deploys to a namespace of the local cluster and notifies a
// Slack-compatible receiver, whose message must carry Jenkins' commit, branch and build URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';
import {
  clusterTestSkip,
  createAdPlatformNamespace,
  kubectlOk,
  nodeAddress,
  nodePortOf,
  testKubeconfig,
  type TestNamespace,
} from '../cluster/testing.ts';
import { repoRoot } from '../runner/index.ts';
import { node24Dir } from '../act/act.ts';
import { publishToLocalRegistry, type Registry } from '../registry/verdaccio.ts';
import { createExampleRepository } from '../act/repo.ts';

const example = join(repoRoot, 'examples', 'ad-platform');
const adciVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** The text of the block that starts at the `{` at `open`, honouring Groovy strings. */
function blockAt(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      if (end < 0) throw new Error(`Jenkinsfile: unterminated ''' string at offset ${i}`);
      i = end + 2;
      continue;
    }
    const c = text[i];
    if (c === "'" || c === '"') {
      // An unmatched quote (an apostrophe in a // comment) would otherwise restart the scan forever.
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`Jenkinsfile: unterminated ${c} string at offset ${i}`);
      i = end;
      continue;
    }
    if (c === '{') depth++;
    if (c === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`Jenkinsfile: unbalanced block at offset ${open}`);
}

/** The block after the first `<keyword> {` (or `<keyword>('name') {`) in text, or undefined. */
function namedBlock(text: string, keyword: RegExp): string | undefined {
  const match = keyword.exec(text);
  if (!match) return undefined;
  return blockAt(text, text.indexOf('{', match.index + match[0].length - 1));
}

interface Step {
  kind: 'sh' | 'input';
  script: string;
  credentials: { id: string; variable: string; type: 'file' | 'string' }[];
}

/** The `sh` and `input` steps of a block, in order, each with the withCredentials bindings around it. */
function stepsOf(block: string): Step[] {
  const steps: { at: number; step: Step }[] = [];
  for (const m of block.matchAll(/\bsh\s+(?:'''([\s\S]*?)'''|'([^']*)')/g)) {
    steps.push({ at: m.index, step: { kind: 'sh', script: m[1] ?? m[2] ?? '', credentials: [] } });
  }
  for (const m of block.matchAll(/\binput\s+message:\s*'([^']*)'/g)) {
    steps.push({ at: m.index, step: { kind: 'input', script: m[1] ?? '', credentials: [] } });
  }
  for (const m of block.matchAll(/withCredentials\(\[([^\]]*)\]\)\s*\{/g)) {
    const inner = blockAt(block, m.index + m[0].length - 1);
    const start = m.index + m[0].length;
    const bindings = [
      ...(m[1] ?? '').matchAll(/(file|string)\(credentialsId:\s*'([^']+)',\s*variable:\s*'([^']+)'\)/g),
    ].map((b) => ({ type: b[1] as 'file' | 'string', id: b[2] ?? '', variable: b[3] ?? '' }));
    for (const s of steps) if (s.at >= start && s.at < start + inner.length) s.step.credentials.push(...bindings);
  }
  return steps.sort((a, b) => a.at - b.at).map((s) => s.step);
}

interface Stage {
  name: string;
  branches: string[] | undefined;
  steps: Step[];
}

function parseJenkinsfile(text: string) {
  const pipeline = namedBlock(text, /^pipeline\s*\{/m) ?? '';
  const environment: Record<string, string> = {};
  for (const m of (namedBlock(pipeline, /\benvironment\s*\{/) ?? '').matchAll(
    /^\s*(\w+)\s*=\s*"\$\{env\.(\w+)\s*\?:\s*'([^']*)'\}"/gm,
  )) {
    environment[m[1] ?? ''] = `${m[2]}|${m[3]}`;
  }
  const stagesBlock = namedBlock(pipeline, /\bstages\s*\{/) ?? '';
  const stages: Stage[] = [];
  for (const m of stagesBlock.matchAll(/\bstage\('([^']+)'\)\s*\{/g)) {
    const body = blockAt(stagesBlock, m.index + m[0].length - 1);
    const when = namedBlock(body, /\bwhen\s*\{/);
    const branches = when ? [...when.matchAll(/\bbranch\s+'([^']+)'/g)].map((b) => b[1] ?? '') : undefined;
    stages.push({ name: m[1] ?? '', branches, steps: stepsOf(namedBlock(body, /\bsteps\s*\{/) ?? '') });
  }
  const postBlock = pipeline.slice(pipeline.lastIndexOf('post {'));
  const post: Record<string, Step[]> = {};
  for (const outcome of ['success', 'failure', 'aborted']) {
    post[outcome] = stepsOf(namedBlock(postBlock, new RegExp(`\\b${outcome}\\s*\\{`)) ?? '');
  }
  return { environment, stages, post };
}

function sh(script: string, cwd: string, env: NodeJS.ProcessEnv) {
  const file = join(cwd, '..', `script-${randomBytes(4).toString('hex')}.sh`);
  writeFileSync(file, script);
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('sh', ['-xe', file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(file, { force: true });
      resolve({ code, output });
    });
  });
}

test('the Jenkinsfile parses into stages with sh steps, branch conditions and post blocks', () => {
  const { stages, post, environment } = parseJenkinsfile(readFileSync(join(example, 'Jenkinsfile'), 'utf8'));
  assert.deepEqual(
    stages.map((s) => s.name),
    [
      'Quality',
      'Image',
      'Deploy staging',
      'Smoke staging',
      'Production preview',
      'Promote production',
      'Smoke production',
    ],
  );
  assert.equal(stages[0]?.branches, undefined);
  assert.deepEqual(stages[2]?.branches, ['develop']);
  assert.match(stages[0]?.steps[0]?.script ?? '', /npm install .*"@adci-dev\/adci@\$ADCI_VERSION"/);
  assert.match(stages[0]?.steps[1]?.script ?? '', /npx adci gate/);
  assert.match(stages[2]?.steps[0]?.script ?? '', /npx adci deploy/);
  assert.deepEqual(stages[2]?.steps[0]?.credentials, [
    { type: 'file', id: 'staging-kubeconfig', variable: 'KUBECONFIG' },
  ]);
  assert.equal(stages[5]?.steps[0]?.kind, 'input');
  assert.match(post.success?.[0]?.script ?? '', /npx adci notify --status success/);
  assert.match(post.failure?.[0]?.script ?? '', /npx adci notify --status failure/);
  assert.equal(post.aborted?.length, 1);
  assert.equal(environment.ADCI_VERSION, `ADCI_VERSION|${adciVersion}`);
  assert.equal(environment.ADCI_INTEGRITY, 'ADCI_INTEGRITY|');
});

describe('the Jenkinsfile sh steps in stage order', { skip: clusterTestSkip(), timeout: 1_500_000 }, () => {
  let workspace = '';
  let sha = '';
  let packDir = '';
  let integrity = '';
  let registry: Registry;
  let slack: FakeSlack;
  let ns: TestNamespace | undefined;
  const token = `smoke-${randomBytes(12).toString('hex')}`;

  before(async () => {
    ({ dir: workspace, sha } = createExampleRepository('develop', 'git@github.com:ads/ad-platform.git'));
    // adci as the Jenkinsfile installs it: the released package from a registry (Verdaccio here).
    ({ registry, integrity, packDir } = await publishToLocalRegistry());
    slack = await startFakeSlack();
    ns = await createAdPlatformNamespace('jenkins-staging', `smoke=${token}`);
    await kubectlOk(['-n', ns.name, 'apply', '-f', join(example, 'deploy', 'service.yaml')]);
  });

  after(async () => {
    await slack?.close();
    await registry?.close();
    if (ns) {
      await ns.remove();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`/var/lib/ad-platform/${ns.name}.db${suffix}`, { force: true });
    }
    rmSync(workspace, { recursive: true, force: true });
    rmSync(packDir, { recursive: true, force: true });
  });

  test('develop: Quality, Image (skipped: no Docker), Deploy staging, Smoke staging, then post success', async () => {
    assert.ok(ns);
    const { stages, post, environment } = parseJenkinsfile(readFileSync(join(workspace, 'Jenkinsfile'), 'utf8'));
    const url = `http://${nodeAddress()}:${await nodePortOf(ns, 'ad-platform')}`;
    const branch = 'develop';
    // What the job's configuration (folder properties, global env) provides.
    const configured: Record<string, string> = {
      ADCI_VERSION: adciVersion,
      ADCI_INTEGRITY: integrity,
      NPM_CONFIG_REGISTRY: registry.url, // a mirror, as a company's Jenkins agents would have
      IMAGE_REPOSITORY: 'ad-platform',
      IMAGE_BUILD: 'false',
      PIP_AUDIT_ALLOW_UNAUDITED: 'true', // no vulnerability service answers here
      POST_PROMOTION_WINDOW: '10s',
      SCALE_DOWN_DELAY: '2s',
      // Latency thresholds for a shared 2-core machine (the checks file's are the service's SLO); errors stay strict.
      SMOKE_LOAD_THRESHOLDS: 'p(95)<500ms\np(99)<1s\nerror_rate<0.01\ndropped_rate<0.01',
      STAGING_NAMESPACE: ns.name,
      STAGING_URL: url,
    };
    const jenkins: Record<string, string> = {
      JENKINS_URL: 'https://jenkins.example.com/',
      JENKINS_HOME: '/var/jenkins_home',
      JOB_NAME: `ad-platform/${branch}`,
      JOB_BASE_NAME: branch,
      BUILD_NUMBER: '42',
      BUILD_ID: '42',
      BUILD_TAG: `jenkins-ad-platform-${branch}-42`,
      BUILD_URL: `https://jenkins.example.com/job/ad-platform/job/${branch}/42/`,
      JOB_URL: `https://jenkins.example.com/job/ad-platform/job/${branch}/`,
      BRANCH_NAME: branch,
      GIT_BRANCH: branch,
      GIT_COMMIT: sha,
      GIT_URL: 'git@github.com:ads/ad-platform.git',
      NODE_NAME: 'built-in',
      EXECUTOR_NUMBER: '0',
      WORKSPACE: workspace,
    };
    const pipelineEnv: Record<string, string> = {};
    for (const [name, spec] of Object.entries(environment)) {
      const [from, fallback] = spec.split('|');
      pipelineEnv[name] = configured[from ?? ''] ?? fallback ?? '';
    }
    const credentials: Record<string, string> = {
      'staging-kubeconfig': testKubeconfig() ?? '',
      'staging-smoke-token': token,
      'slack-webhook': slack.webhookUrl,
    };
    const base: NodeJS.ProcessEnv = {
      PATH: [node24Dir(), process.env.PATH ?? ''].join(delimiter),
      HOME: process.env.HOME,
      LANG: process.env.LANG,
      ...Object.fromEntries(
        Object.entries(process.env).filter(([k]) =>
          /^(pip_|ssl_cert|requests_ca|curl_ca|node_extra_ca|git_ssl)/i.test(k),
        ),
      ),
      ...configured,
      ...jenkins,
      ...pipelineEnv,
    };
    const ran: string[] = [];
    let log = '';
    const runSteps = async (steps: Step[], where: string): Promise<boolean> => {
      for (const step of steps) {
        if (step.kind === 'input') {
          log += `[${where}] input approved: ${step.script}\n`;
          continue;
        }
        const env = { ...base };
        for (const c of step.credentials) {
          const value = credentials[c.id];
          assert.ok(value !== undefined, `credential ${c.id} is not configured for this test`);
          env[c.variable] = value;
        }
        const result = await sh(step.script, workspace, env);
        log += `[${where}]\n${result.output}\n`;
        if (result.code !== 0) return false;
      }
      return true;
    };
    let outcome = 'success';
    for (const stage of stages) {
      if (stage.branches && !stage.branches.includes(branch)) continue;
      ran.push(stage.name);
      if (!(await runSteps(stage.steps, stage.name))) {
        outcome = 'failure';
        break;
      }
    }
    await runSteps(post[outcome] ?? [], `post ${outcome}`);
    const shown = log.length > 60_000 ? `…${log.slice(-60_000)}` : log;
    assert.equal(outcome, 'success', shown);
    assert.deepEqual(ran, ['Quality', 'Image', 'Deploy staging', 'Smoke staging']);
    assert.match(log, /image build skipped \(IMAGE_BUILD=false/);
    assert.match(log, /blue is live|green is live/);
    const version = ((await (await fetch(`${url}/health`)).json()) as { version: string }).version;
    assert.equal(version, `sha-${sha.slice(0, 12)}`);
    const delivered = slack.received.filter((r) => r.answeredWith === 200).map((r) => JSON.stringify(r.json));
    assert.equal(delivered.length, 1, shown);
    const message = delivered[0] ?? '';
    assert.match(message, /develop/);
    assert.ok(message.includes(`https://github.com/ads/ad-platform/commit/${sha}`), message);
    assert.ok(message.includes('https://jenkins.example.com/job/ad-platform/job/develop/42/'), message);
    assert.ok(!log.includes(token), 'the smoke token reached the log');
  });
});
