// Where a release's objects come from: plain manifest files, a Helm chart rendered by the real
// `helm template`, or a Kustomize overlay rendered by the real `kubectl kustomize`. The tools run
// through an exec port with argument arrays (never a shell string); what they print goes through
// the same parser as manifest files, each document named by its template (`chart web:
// templates/deployment.yaml`). Every refusal names the input, before anything changes.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { InputError } from '@adci/common';
import type { KubeObject } from './port.ts';
import { parseManifestText, readManifests, resolveManifestFiles, type SourcedObject } from './manifests.ts';

export interface ExecOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `program` with `args` (an argument array, never through a shell) in `cwd`, and resolves to
 * what it printed and its exit code (a non-zero exit is not an error), or to `'not-found'` when the
 * program is not on PATH. The action passes one built on @actions/exec; `adci` and the tests use
 * {@link childProcessExec}.
 */
export type ExecPort = (program: string, args: string[], options: { cwd: string }) => Promise<ExecOutput | 'not-found'>;

/** The exec port on node:child_process (no shell; 64 MiB of output at most). */
export const childProcessExec: ExecPort = (program, args, options) =>
  new Promise<ExecOutput | 'not-found'>((resolve, reject) => {
    execFile(
      program,
      args,
      { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', windowsHide: true },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return resolve('not-found');
        // A signal, a spawn failure or too much output: not an exit code to report.
        if (error && typeof error.code !== 'number') return reject(new Error(`${program}: ${error.message}`));
        resolve({ exitCode: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });

/** The source inputs, by their input names' meaning (`chart`, `values`, `set`, `release-name`, `kustomize`). */
export interface SourceInputs {
  manifests: string[];
  /** A Helm chart (directory or .tgz) rendered with `helm template` instead of manifests. */
  chart?: string;
  /** The chart's values files, in order. */
  values?: string[];
  /** `key=value` lines, each one `--set`. */
  set?: string[];
  /** The Helm release name (.Release.Name); required with chart. */
  releaseName?: string;
  /** A Kustomize overlay directory rendered with `kubectl kustomize` instead of manifests. */
  kustomize?: string;
}

export interface SourceOptions {
  namespace: string;
  /** Resolves relative paths (the workspace). */
  baseDir: string;
  /** Needed for `chart` and `kustomize`. */
  exec?: ExecPort;
}

/** The input that names where the objects come from (for messages): manifests, chart or kustomize. */
export function sourceInput(raw: SourceInputs): 'manifests' | 'chart' | 'kustomize' {
  if (raw.chart?.trim()) return 'chart';
  if (raw.kustomize?.trim()) return 'kustomize';
  return 'manifests';
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Helm's annotation on hooks and tests, which `helm template` prints but blue-green-deploy never runs. */
export const HELM_HOOK_ANNOTATION = 'helm.sh/hook';

/** Exactly one of manifests, chart, kustomize; the chart's companions only with a chart. */
export function checkSources(raw: SourceInputs): void {
  const given = [
    raw.manifests.length > 0 ? 'manifests' : undefined,
    raw.chart?.trim() ? 'chart' : undefined,
    raw.kustomize?.trim() ? 'kustomize' : undefined,
  ].filter((x): x is string => x !== undefined);
  if (given.length === 0) {
    throw new InputError(
      'manifests',
      'is required (or chart, or kustomize): the files (or globs) of the Deployment and its Services',
    );
  }
  if (given.length > 1) {
    throw new InputError(
      given[1] as string,
      `give exactly one of manifests, chart and kustomize (got ${given.join(' and ')})`,
    );
  }
  if (!raw.chart?.trim()) {
    for (const [input, value] of [
      ['values', raw.values?.length],
      ['set', raw.set?.length],
      ['release-name', raw.releaseName?.trim()],
    ] as const) {
      if (value) throw new InputError(input, 'applies only to a chart (give chart, or leave it empty)');
    }
  }
}

/** The objects of the release, from whichever source was given (checkSources first). */
export async function readSources(raw: SourceInputs, options: SourceOptions): Promise<SourcedObject[]> {
  checkSources(raw);
  if (raw.chart?.trim()) return renderChart(raw, options);
  if (raw.kustomize?.trim()) return renderKustomize(raw.kustomize.trim(), options);
  return readManifests(resolveManifestFiles(raw.manifests, options.baseDir), options.baseDir);
}

function resolvePath(input: string, path: string, baseDir: string, want: 'file' | 'directory' | 'any'): string {
  const full = isAbsolute(path) ? path : join(baseDir, path);
  const stat = statSync(full, { throwIfNoEntry: false });
  if (!stat) throw new InputError(input, `'${path}' does not exist`);
  if (want === 'file' && !stat.isFile()) throw new InputError(input, `'${path}' is not a file`);
  if (want === 'directory' && !stat.isDirectory()) throw new InputError(input, `'${path}' is not a directory`);
  return full;
}

/** `key=value` lines of `set`, each passed to helm as its own `--set` argument. */
export function parseSetLines(lines: string[]): string[] {
  return lines.map((line) => {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new InputError('set', `'${line}' is not key=value (e.g. image.tag=1.2.3)`);
    return line;
  });
}

async function runTool(
  exec: ExecPort | undefined,
  input: string,
  program: string,
  args: string[],
  cwd: string,
  what: string,
): Promise<string> {
  if (!exec) throw new Error(`${input}: no way to run ${program} was given (an exec port)`);
  const outcome = await exec(program, args, { cwd });
  if (outcome === 'not-found') {
    throw new InputError(
      input,
      `renders with \`${program}\`, which is not on PATH; install it (it is preinstalled on GitHub's Ubuntu runners)`,
    );
  }
  if (outcome.exitCode !== 0) {
    const message = outcome.stderr.trim() || outcome.stdout.trim() || `exit code ${outcome.exitCode}`;
    throw new InputError(input, `${what} failed (${program} exit ${outcome.exitCode}):\n${message}`);
  }
  return outcome.stdout;
}

async function renderChart(raw: SourceInputs, options: SourceOptions): Promise<SourcedObject[]> {
  const chart = (raw.chart ?? '').trim();
  const chartPath = resolvePath('chart', chart, options.baseDir, 'any');
  const releaseName = raw.releaseName?.trim();
  if (!releaseName) {
    throw new InputError(
      'release-name',
      "is required with chart: the name the templates see as .Release.Name (a live Helm release's name to adopt it)",
    );
  }
  if (releaseName.length > 53 || !DNS_SUBDOMAIN.test(releaseName)) {
    throw new InputError(
      'release-name',
      `'${releaseName}' is not a valid release name (lower-case letters, digits and '-', at most 53)`,
    );
  }
  const args = ['template', releaseName, chartPath, '--namespace', options.namespace, '--skip-tests'];
  for (const file of raw.values ?? []) args.push('--values', resolvePath('values', file, options.baseDir, 'file'));
  for (const pair of parseSetLines(raw.set ?? [])) args.push('--set', pair);
  const text = await runTool(options.exec, 'chart', 'helm', args, options.baseDir, `helm template of chart ${chart}`);
  const docs = splitHelmOutput(text, `chart ${chart}`);
  refuseHooks(docs, 'chart');
  const objects = docs.flatMap((doc) => parseRendered(doc.text, doc.file, 'chart'));
  if (objects.length === 0) throw new InputError('chart', `chart ${chart} renders no Kubernetes object`);
  return objects;
}

async function renderKustomize(dir: string, options: SourceOptions): Promise<SourcedObject[]> {
  const path = resolvePath('kustomize', dir, options.baseDir, 'directory');
  const text = await runTool(
    options.exec,
    'kustomize',
    'kubectl',
    ['kustomize', path],
    options.baseDir,
    `kubectl kustomize of ${dir}`,
  );
  const file = `kustomize ${dir}`;
  refuseHooks([{ file, text }], 'kustomize');
  const objects = parseRendered(text, file, 'kustomize');
  if (objects.length === 0) throw new InputError('kustomize', `${dir} renders no Kubernetes object`);
  return objects;
}

/** parseManifestText, its refusals re-named to the source input. */
function parseRendered(text: string, file: string, input: string): SourcedObject[] {
  try {
    return parseManifestText(text, file);
  } catch (error) {
    if (error instanceof InputError && error.input === 'manifests') {
      throw new InputError(input, error.message.replace(/^Input 'manifests': /, ''));
    }
    throw error;
  }
}

/**
 * helm template's output, one chunk per `# Source: <chart>/templates/x.yaml` document, each named
 * `<label>: templates/x.yaml` (line numbers are then within that template's output).
 */
export function splitHelmOutput(text: string, label: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const chunk of text.split(/^---[ \t]*$/m)) {
    if (!chunk.trim()) continue;
    const source = /^# Source: ([^\n]+)$/m.exec(chunk)?.[1]?.trim();
    // `web/templates/deployment.yaml` -> `templates/deployment.yaml` (the chart's own name is in the label).
    const template = source ? source.replace(/^[^/]+\//, '') : 'output';
    out.push({ file: `${label}: ${template}`, text: chunk.replace(/^\n/, '') });
  }
  return out;
}

/**
 * Helm hooks (pre-install Jobs, post-upgrade …) run at moments of `helm install` that a blue-green
 * deploy does not have; applying them as ordinary objects would run them at the wrong time, so they
 * are refused. Chart tests are left out by `helm template --skip-tests`.
 */
function refuseHooks(docs: { file: string; text: string }[], input: string): void {
  const hooks: string[] = [];
  for (const { file, text } of docs) {
    // Before the kinds are checked: a hook is most often a Job or a Pod, which would be refused
    // as a kind without saying why it is there.
    const lineCounter = new LineCounter();
    for (const doc of parseAllDocuments(text, { lineCounter })) {
      if (doc.errors.length > 0) continue; // parseManifestText names the error
      const object = doc.toJS({ maxAliasCount: 100 }) as Partial<KubeObject> | null;
      const hook = object?.metadata?.annotations?.[HELM_HOOK_ANNOTATION];
      if (hook === undefined) continue;
      const line = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]).line : 1;
      hooks.push(
        `${file}:${line}: ${object?.kind}/${object?.metadata?.name} is a Helm hook (${HELM_HOOK_ANNOTATION}: ${hook})`,
      );
    }
  }
  if (hooks.length === 0) return;
  throw new InputError(
    input,
    `${hooks.join('; ')}; blue-green-deploy does not run Helm hooks: run that work in its own step, ` +
      'or leave the hook out (e.g. behind a value set to false)',
  );
}
