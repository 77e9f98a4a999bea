// Runs an action's built bundle exactly as GitHub's runner does: INPUT_* variables from `with:`
// plus action.yml defaults, the GITHUB_* file commands and context variables, the event payload,
// workflow commands parsed from stdout, `post:` with saved state (also after a cancel), cancellation
// as SIGINT then SIGTERM 7.5 s later, and a fresh HOME per run so no test reads a real ~/.kube/config.
// End-to-end tests of every action go through here.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  title?: string;
  file?: string;
  line?: number;
  endLine?: number;
  col?: number;
  endColumn?: number;
}

export interface RunOptions {
  /** The step's `with:` map. */
  with?: Record<string, string>;
  /** Extra environment for the step (`env:`), and overrides of GITHUB_* variables. */
  env?: Record<string, string>;
  /** The webhook event payload written to GITHUB_EVENT_PATH. */
  event?: object;
  eventName?: string;
  cwd?: string;
  /** Hard limit: the process is killed (SIGKILL) after this many ms. */
  timeoutMs?: number;
  /** Cancels the step as the runner does after this many ms. */
  cancelAfterMs?: number;
  /**
   * Cancels the step as the runner does (SIGINT, SIGTERM 7.5 s later) as soon as a line of its
   * stdout or stderr matches: a RegExp, or a string the line contains. `post:` still runs. The run
   * is refused with an error if no line ever matches, so a test cannot pass without its cancel.
   */
  cancelOn?: RegExp | string;
  /**
   * How cancelOn/cancelAfterMs stop the step: `SIGINT` (the runner's cancel, default) or `SIGKILL`
   * (a lost runner: no grace, and no post: step).
   */
  killWith?: 'SIGINT' | 'SIGKILL';
  /** Value of `${{ job.status }}` in defaults. */
  jobStatus?: string;
  /** Value of `${{ github.token }}` in defaults. */
  githubToken?: string;
  /** Run `post:` if the action has one (default true). */
  runPost?: boolean;
}

export interface StepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The step was sent SIGINT by `cancelAfterMs` or `cancelOn`. */
  cancelled: boolean;
  /** The output line that matched `cancelOn`. */
  cancelledOn?: string;
  /** stdout without the `::add-mask::` commands the runner swallows; NOT masked, so leaks show. */
  stdout: string;
  stderr: string;
  /** stdout as a user sees it in the log: masked values replaced by ***. */
  log: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  exportedEnv: Record<string, string>;
  summary: string;
  masks: string[];
  annotations: Annotation[];
  durationMs: number;
}

export interface ActionResult extends StepResult {
  post?: StepResult;
}

interface ActionMetadata {
  inputs?: Record<string, { default?: string; required?: boolean }>;
  runs: { using: string; main: string; post?: string };
}

function unescapeData(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}
function unescapeProperty(text: string): string {
  return unescapeData(text).replace(/%3A/g, ':').replace(/%2C/g, ',');
}

/** Parses `name=value` and `name<<DELIM ... DELIM` lines of GITHUB_OUTPUT/STATE/ENV files. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line) continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      while (++i < lines.length && lines[i] !== delimiter) value.push(lines[i] as string);
      if (i >= lines.length) throw new Error(`unterminated heredoc for '${name}' (delimiter ${delimiter})`);
      out[name] = value.join('\n');
    } else {
      const eq = line.indexOf('=');
      if (eq < 0) throw new Error(`invalid file command line: ${line}`);
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

/** Parses `::command key=value,...::data` workflow commands from a step's stdout. */
function parseWorkflowCommands(stdout: string) {
  const annotations: Annotation[] = [];
  const masks: string[] = [];
  const outputs: Record<string, string> = {};
  const state: Record<string, string> = {};
  const visible: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line.replace(/\r$/, ''));
    if (!match) {
      visible.push(line);
      continue;
    }
    const [, command, rawProps = '', rawData = ''] = match as unknown as [string, string, string | undefined, string];
    const data = unescapeData(rawData);
    const props: Record<string, string> = {};
    for (const pair of rawProps.split(',').filter(Boolean)) {
      const eq = pair.indexOf('=');
      props[pair.slice(0, eq).trim()] = unescapeProperty(pair.slice(eq + 1));
    }
    if (command === 'add-mask') {
      if (data) masks.push(data);
      continue; // the runner swallows it; nothing shows in the log
    }
    visible.push(line);
    if (command === 'error' || command === 'warning' || command === 'notice') {
      const num = (key: string) => (props[key] !== undefined ? Number(props[key]) : undefined);
      const annotation: Annotation = { level: command, message: data };
      if (props.title !== undefined) annotation.title = props.title;
      if (props.file !== undefined) annotation.file = props.file;
      for (const [key, name] of [
        ['line', 'line'],
        ['endLine', 'endLine'],
        ['col', 'col'],
        ['endColumn', 'endColumn'],
      ] as const) {
        const value = num(key);
        if (value !== undefined) annotation[name] = value;
      }
      annotations.push(annotation);
    } else if (command === 'set-output' && props.name) outputs[props.name] = data;
    else if (command === 'save-state' && props.name) state[props.name] = data;
  }
  return { annotations, masks, outputs, state, visible: visible.join('\n') };
}

function mask(text: string, masks: string[]): string {
  let out = text;
  for (const secret of [...masks].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function evaluateDefault(value: string, context: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([\w.]+)\s*\}\}/g, (_, expression: string) => {
    if (!(expression in context)) throw new Error(`runner harness: unsupported expression \${{ ${expression} }}`);
    return context[expression] as string;
  });
}

async function runStep(
  script: string,
  env: Record<string, string>,
  files: { output: string; state: string; env: string; summary: string },
  options: RunOptions,
): Promise<StepResult> {
  for (const file of Object.values(files)) writeFileSync(file, '');
  const started = performance.now();
  const child = spawn(process.execPath, [script], {
    cwd: options.cwd ?? repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const timers: NodeJS.Timeout[] = [];
  let timedOut = false;
  let cancelled = false;
  let cancelledOn: string | undefined;
  const cancel = (): void => {
    if (cancelled || child.exitCode !== null || child.signalCode !== null) return;
    cancelled = true;
    if (options.killWith === 'SIGKILL') {
      child.kill('SIGKILL');
      return;
    }
    child.kill('SIGINT');
    timers.push(setTimeout(() => child.kill('SIGTERM'), 7500));
  };
  const { cancelOn } = options;
  const matches = (line: string): boolean =>
    typeof cancelOn === 'string' ? line.includes(cancelOn) : (cancelOn as RegExp).test(line);
  // Lines are matched as they complete; a chunk may end mid-line, so each stream keeps its tail.
  const watch = (stream: NodeJS.ReadableStream, append: (chunk: string) => void): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      append(chunk);
      if (cancelOn === undefined || cancelledOn !== undefined) return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() as string;
      const hit = lines.map((line) => line.replace(/\r$/, '')).find(matches);
      if (hit !== undefined) {
        cancelledOn = hit;
        cancel();
      }
    });
  };
  watch(child.stdout, (chunk) => (stdout += chunk));
  watch(child.stderr, (chunk) => (stderr += chunk));
  if (options.cancelAfterMs !== undefined) timers.push(setTimeout(cancel, options.cancelAfterMs));
  timers.push(
    setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000),
  );
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
    child.on('close', (code, sig) => done([code, sig])),
  );
  for (const timer of timers) clearTimeout(timer);
  if (cancelOn !== undefined && cancelledOn === undefined) {
    const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(
      `runner harness: cancelOn ${String(cancelOn)} matched no line of ${basename(script)}'s output ` +
        `(exit ${exitCode ?? signal}); its last lines:\n${tail}`,
    );
  }
  const commands = parseWorkflowCommands(stdout);
  return {
    exitCode,
    signal,
    timedOut,
    cancelled,
    ...(cancelledOn !== undefined ? { cancelledOn } : {}),
    stdout: commands.visible,
    stderr,
    log: mask(commands.visible, commands.masks),
    outputs: { ...commands.outputs, ...parseFileCommands(readIfExists(files.output)) },
    state: { ...commands.state, ...parseFileCommands(readIfExists(files.state)) },
    exportedEnv: parseFileCommands(readIfExists(files.env)),
    summary: readIfExists(files.summary),
    masks: commands.masks,
    annotations: commands.annotations,
    durationMs: performance.now() - started,
  };
}

/** Runs `<action>/action.yml`'s bundle (and its post step) and reports what the runner would see. */
export async function runActionBundle(action: string, options: RunOptions = {}): Promise<ActionResult> {
  // An action of this repository by name, or any action directory by absolute path.
  const actionDir = isAbsolute(action) ? action : join(repoRoot, action);
  action = basename(actionDir);
  const metadata = parseYaml(readFileSync(join(actionDir, 'action.yml'), 'utf8')) as ActionMetadata;
  if (metadata.runs.using !== 'node24') throw new Error(`${action}: runs.using is ${metadata.runs.using}, not node24`);
  const temp = mkdtempSync(join(tmpdir(), `adci-runner-${action}-`));
  try {
    const workspace = options.cwd ?? repoRoot;
    const eventPath = join(temp, 'event.json');
    writeFileSync(eventPath, JSON.stringify(options.event ?? {}));
    const github: Record<string, string> = {
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_REPOSITORY: 'adci-org/ad-platform',
      GITHUB_REPOSITORY_OWNER: 'adci-org',
      GITHUB_SHA: '4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REF_NAME: 'main',
      GITHUB_REF_TYPE: 'branch',
      GITHUB_WORKFLOW: 'Deploy',
      GITHUB_JOB: 'deploy',
      GITHUB_RUN_ID: '7001',
      GITHUB_RUN_NUMBER: '42',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_ACTOR: 'octocat',
      GITHUB_EVENT_NAME: options.eventName ?? 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
      GITHUB_WORKSPACE: workspace,
      GITHUB_ACTION: action.replace(/-/g, '_'),
      GITHUB_ACTION_PATH: actionDir,
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
      RUNNER_TEMP: temp,
      RUNNER_DEBUG: '',
      ...options.env,
    };
    const expressionContext: Record<string, string> = {
      'job.status': options.jobStatus ?? 'success',
      'github.token': options.githubToken ?? 'ghs_runnerHarnessToken0000000000000000',
      'github.repository': github.GITHUB_REPOSITORY as string,
      'github.sha': github.GITHUB_SHA as string,
      'github.workspace': workspace,
      'github.server_url': github.GITHUB_SERVER_URL as string,
      'github.api_url': github.GITHUB_API_URL as string,
      'runner.temp': temp,
    };
    const inputs: Record<string, string> = {};
    for (const [name, spec] of Object.entries(metadata.inputs ?? {})) {
      if (spec.default !== undefined) inputs[name] = evaluateDefault(String(spec.default), expressionContext);
    }
    for (const [name, value] of Object.entries(options.with ?? {})) {
      if (!metadata.inputs || !(name in metadata.inputs)) {
        // The runner only warns; a test passing an unknown input is almost always a mistake.
        throw new Error(`${action}: unexpected input '${name}' (not in action.yml)`);
      }
      inputs[name] = value;
    }
    const files = {
      output: join(temp, 'output'),
      state: join(temp, 'state'),
      env: join(temp, 'env'),
      summary: join(temp, 'summary.md'),
    };
    // A fresh HOME: nothing of the developer's (~/.kube/config, ~/.npmrc, ~/.gitconfig) leaks in.
    const home = join(temp, 'home');
    mkdirSync(home);
    const baseEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      ...github,
      GITHUB_OUTPUT: files.output,
      GITHUB_STATE: files.state,
      GITHUB_ENV: files.env,
      GITHUB_PATH: join(temp, 'path'),
      GITHUB_STEP_SUMMARY: files.summary,
    };
    for (const [name, value] of Object.entries(inputs)) {
      baseEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
    }
    const main = await runStep(join(actionDir, metadata.runs.main), baseEnv, files, options);
    const result: ActionResult = { ...main };
    // A runner killed with SIGKILL is gone: nothing runs the post: step.
    if (metadata.runs.post && options.runPost !== false && !(options.killWith === 'SIGKILL' && main.cancelled)) {
      const postEnv = { ...baseEnv };
      for (const [name, value] of Object.entries(main.state)) postEnv[`STATE_${name}`] = value;
      // As on GitHub, post: runs after a cancelled main step (its default post-if is always()).
      const { cancelAfterMs: _after, cancelOn: _on, killWith: _kill, ...postOptions } = options;
      result.post = await runStep(join(actionDir, metadata.runs.post), postEnv, files, postOptions);
    }
    return result;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
