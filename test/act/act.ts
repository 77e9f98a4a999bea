// Runs this repository's workflows with nektos/act, GitHub's workflow semantics as act implements
// them, on this machine: act is built once from the Go module proxy (like the cluster's binaries,
// through test/cluster/gobuild.ts) and cached under ~/.cache/adci/act-<version>/, and runs jobs in self-hosted mode
// (`-P ubuntu-latest=-self-hosted`: no Docker), with the project's pinned Node 24 first on PATH so
// the actions' `node24` runtime is Node 24. Secrets and variables go through files (never argv, never
// act's own environment, which act hands to every step).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { ensureGoBuild } from '../cluster/gobuild.ts';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const ACT_VERSION = 'v0.2.89';
const ACT_MODULE = 'github.com/nektos/act';
const repoRoot = join(import.meta.dirname, '..', '..');

export function actCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.ADCI_CACHE_DIR ?? join(homedir(), '.cache', 'adci'), `act-${ACT_VERSION}`);
}

export function actBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.ADCI_ACT ?? join(actCacheDir(env), 'bin', 'act');
}

/** The directory of the project's Node 24 (the `node` dev dependency). */
export function node24Dir(): string {
  const dir = join(repoRoot, 'node_modules', 'node', 'bin');
  if (!existsSync(join(dir, 'node'))) throw new Error(`no Node 24 at ${dir}: run npm ci`);
  return dir;
}

/**
 * The cached act binary, built first if missing (test/cluster/gobuild.ts: once per machine, in a
 * private directory renamed into place when complete, so an interrupted build is never used).
 */
export async function ensureAct(
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string> {
  const binary = actBinary();
  if (existsSync(binary)) return binary;
  await ensureGoBuild({
    what: `act ${ACT_VERSION}`,
    dir: actCacheDir(),
    marker: join('bin', 'act'),
    expected: 'about 3-5 minutes',
    log: (line) => log(`act: ${line}`),
    commands: (partial) => [
      {
        args: ['install', '-v', `${ACT_MODULE}@${ACT_VERSION}`],
        cwd: tmpdir(),
        env: { ...process.env, GOFLAGS: '-mod=mod', GOBIN: join(partial, 'bin') },
      },
    ],
  });
  return binary;
}

export interface ActOptions {
  /** The repository act runs in (a git work tree with a remote named origin). */
  cwd: string;
  /** Workflow file relative to cwd. */
  workflow: string;
  event: 'push' | 'pull_request' | 'workflow_dispatch';
  /** The event payload (written to a file for -e). */
  payload: object;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** Extra environment of the jobs (--env), e.g. GITHUB_API_URL. */
  env?: Record<string, string>;
  /**
   * Remote actions act must not fetch (no network here), as `owner/repo@ref` -> a local folder
   * (--local-repository). act resolves every `uses:` of a job before it starts, also of steps whose
   * `if:` is false, so a step skipped under act (`if: !env.ACT`) still needs its action found.
   */
  localRepositories?: Record<string, string>;
  /**
   * Where act clones remote actions and reusable workflows and makes host workspaces
   * (--action-cache-path); default act's own ~/.cache/act, shared by every run on the machine.
   */
  actionCachePath?: string;
  /** Only this job (-j); default the whole workflow. */
  job?: string;
  timeoutMs?: number;
  /** Each output line as it arrives. */
  onLine?: (line: string) => void;
  /** Directories of tools the jobs run (e.g. the built helm), on PATH after Node 24, as a runner's preinstalled tools. */
  toolDirs?: string[];
}

export interface JobOutcome {
  /** The job's display name as act prints it, e.g. `staging/deploy staging`. */
  job: string;
  result: 'success' | 'failure';
}

export interface ActResult {
  code: number | null;
  output: string;
  /** Jobs that ran to an end, in the order act reported them. */
  jobs: JobOutcome[];
  durationMs: number;
}

/** act's own environment: only what it needs, so nothing private leaks into the jobs it runs. */
function actEnvironment(toolDirs: string[] = []): NodeJS.ProcessEnv {
  const inherited = ['HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'GOPATH', 'GOCACHE', 'GOMODCACHE', 'PIP_INDEX_URL'];
  const env: NodeJS.ProcessEnv = {};
  for (const name of inherited) if (process.env[name] !== undefined) env[name] = process.env[name];
  // The machine's network settings, as a self-hosted runner's service environment has them: proxies
  // and the CA bundles TLS clients (pip, Node, git, requests) trust here.
  const network =
    /^(https?_proxy|no_proxy|ssl_cert_(file|dir)|requests_ca_bundle|curl_ca_bundle|node_extra_ca_certs|git_ssl_cainfo|pip_[a-z_]+)$/i;
  for (const [name, value] of Object.entries(process.env)) if (network.test(name)) env[name] = value;
  env.PATH = [node24Dir(), ...toolDirs, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(delimiter);
  return env;
}

export async function runAct(options: ActOptions): Promise<ActResult> {
  const binary = await ensureAct();
  const dir = mkdtempSync(join(tmpdir(), 'adci-act-'));
  try {
    const eventFile = join(dir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(options.payload));
    // JSON is YAML: act reads .yml secret and variable files with a YAML parser (multi-line values survive).
    const secretFile = join(dir, 'secrets.yml');
    writeFileSync(secretFile, JSON.stringify(options.secrets ?? {}), { mode: 0o600 });
    const varFile = join(dir, 'vars.yml');
    writeFileSync(varFile, JSON.stringify(options.vars ?? {}));
    const args = [
      options.event,
      '-W',
      options.workflow,
      '-e',
      eventFile,
      '-P',
      'ubuntu-latest=-self-hosted',
      '--secret-file',
      secretFile,
      '--var-file',
      varFile,
      '--env-file',
      join(dir, 'none.env'),
      '--input-file',
      join(dir, 'none.input'),
      '--no-cache-server',
    ];
    for (const [name, value] of Object.entries(options.env ?? {})) args.push('--env', `${name}=${value}`);
    for (const [name, dir] of Object.entries(options.localRepositories ?? {}))
      args.push('--local-repository', `${name}=${dir}`);
    if (options.actionCachePath) args.push('--action-cache-path', options.actionCachePath);
    if (options.job) args.push('-j', options.job);
    const started = Date.now();
    return await new Promise<ActResult>((resolve, reject) => {
      const child = spawn(binary, args, {
        cwd: options.cwd,
        env: actEnvironment(options.toolDirs),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      let pending = '';
      const jobs: JobOutcome[] = [];
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output += text;
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const done = /^\[([^\]]+)\] 🏁 {2}Job (succeeded|failed)/u.exec(line);
          if (done) jobs.push({ job: done[1] ?? '', result: done[2] === 'succeeded' ? 'success' : 'failure' });
          options.onLine?.(line);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const timer = setTimeout(() => child.kill('SIGINT'), options.timeoutMs ?? 900_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (pending) options.onLine?.(pending);
        resolve({ code, output, jobs, durationMs: Date.now() - started });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  // `node test/act/act.ts` builds (or finds) act and prints its path.
  process.stdout.write(`${await ensureAct()}\n`);
}
