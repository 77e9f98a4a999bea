// The targets file of a release to several clusters: each target (a regional cluster) with where
// its kubeconfig comes from, and the waves they are released in. Read and checked completely before
// any cluster is contacted; every error names the file, the line and the key.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError, parseDuration, scalarText } from '@adci/common';
import { parseStructured } from '@adci/common/structured';

export interface TargetSpec {
  name: string;
  /** The environment variable holding the kubeconfig's contents (a CI secret), or… */
  kubeconfigEnv?: string;
  /** …a kubeconfig file. Never a command-line argument. */
  kubeconfigFile?: string;
  context?: string;
  namespace?: string;
  previewUrl?: string;
  preChecks?: string;
  postChecks?: string;
  /** Placeholder values for this target's analyses (e.g. region). */
  analysisVars: Record<string, string>;
  /** Line of the target in the file. */
  line: number;
}

export type WaveFailure = 'rollback-all' | 'stop';

export interface TargetsFile {
  source: string;
  targets: TargetSpec[];
  /** Target names per wave, in order. */
  waves: string[][];
  bakeTimeMs: number;
  maxParallel: number;
  onFailure: WaveFailure;
  /**
   * Later waves' new colours are brought up (applied, ready, pre-promotion checks passed; no
   * traffic) while the earlier waves release and bake, so that a wave's turn is only its switch.
   */
  stageAhead: boolean;
}

const TOP_KEYS = ['targets', 'waves', 'bake-time', 'max-parallel', 'on-failure', 'stage-ahead'];
const TARGET_KEYS = [
  'name',
  'kubeconfig-env',
  'kubeconfig-file',
  'context',
  'namespace',
  'preview-url',
  'pre-promotion-checks',
  'post-promotion-checks',
  'analysis-vars',
];
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses and checks a targets file; `input` names the input or flag in errors. */
export function parseTargetsFile(text: string, file: string, input = 'targets'): TargetsFile {
  const doc = parseStructured(text, `${input} ${file}`);
  const at = (path: (string | number)[]): string => `${file}:${doc.lineOf(path) ?? 1}`;
  const fail = (path: (string | number)[], message: string): never => {
    throw new InputError(input, `${at(path)}: ${message}`);
  };
  const root = doc.value;
  if (!root || typeof root !== 'object' || Array.isArray(root)) fail([], 'must be a mapping with targets and waves');
  const top = root as Record<string, unknown>;
  for (const key of Object.keys(top))
    if (!TOP_KEYS.includes(key)) fail([key], `unknown key '${key}' (known: ${TOP_KEYS.join(', ')})`);
  if (!Array.isArray(top.targets) || top.targets.length === 0) fail(['targets'], 'targets must be a non-empty list');
  const targets: TargetSpec[] = [];
  (top.targets as unknown[]).forEach((item, i) => {
    const path = ['targets', i];
    if (!item || typeof item !== 'object' || Array.isArray(item)) fail(path, 'a target must be a mapping');
    const t = item as Record<string, unknown>;
    for (const key of Object.keys(t))
      if (!TARGET_KEYS.includes(key)) fail([...path, key], `unknown key '${key}' (known: ${TARGET_KEYS.join(', ')})`);
    const text = (key: string): string | undefined => {
      const value = t[key];
      if (value === undefined || value === null) return undefined;
      if (typeof value === 'object') fail([...path, key], `${key} must be a string`);
      return scalarText(value);
    };
    const name = text('name');
    if (!name) fail(path, 'a target needs a name');
    if (!NAME.test(name as string))
      fail([...path, 'name'], `'${name}' is not a valid target name (lower-case letters, digits and '-')`);
    if (targets.some((other) => other.name === name)) fail([...path, 'name'], `target '${name}' is named twice`);
    const kubeconfigEnv = text('kubeconfig-env');
    const kubeconfigFile = text('kubeconfig-file');
    if (!kubeconfigEnv === !kubeconfigFile)
      fail(path, `target '${name}' needs exactly one of kubeconfig-env (a secret's variable) and kubeconfig-file`);
    if (kubeconfigEnv && !ENV_NAME.test(kubeconfigEnv))
      fail(
        [...path, 'kubeconfig-env'],
        `'${kubeconfigEnv}' is not an environment variable name (the name, not the kubeconfig)`,
      );
    const vars = t['analysis-vars'];
    if (vars !== undefined && (typeof vars !== 'object' || vars === null || Array.isArray(vars)))
      fail([...path, 'analysis-vars'], 'analysis-vars must be a mapping of names to values');
    const analysisVars: Record<string, string> = {};
    for (const [key, value] of Object.entries((vars ?? {}) as Record<string, unknown>)) {
      if (value !== null && typeof value === 'object') fail([...path, 'analysis-vars', key], `${key} must be a scalar`);
      analysisVars[key] = scalarText(value);
    }
    const namespace = text('namespace');
    if (namespace && (namespace.length > 63 || !NAME.test(namespace)))
      fail([...path, 'namespace'], `'${namespace}' is not a valid namespace`);
    targets.push({
      name: name as string,
      kubeconfigEnv,
      kubeconfigFile,
      context: text('context'),
      namespace,
      previewUrl: text('preview-url'),
      preChecks: text('pre-promotion-checks'),
      postChecks: text('post-promotion-checks'),
      analysisVars,
      line: doc.lineOf(path) ?? 1,
    });
  });
  if (!Array.isArray(top.waves) || top.waves.length === 0)
    fail(['waves'], 'waves must be a non-empty list of lists of target names');
  const seen = new Map<string, number>();
  const waves = (top.waves as unknown[]).map((wave, w) => {
    if (!Array.isArray(wave) || wave.length === 0)
      fail(['waves', w], `wave ${w + 1} must be a non-empty list of target names`);
    return (wave as unknown[]).map((entry, i) => {
      const name = scalarText(entry);
      if (!targets.some((t) => t.name === name))
        fail(
          ['waves', w, i],
          `wave ${w + 1} names '${name}', which is not a target (targets: ${targets.map((t) => t.name).join(', ')})`,
        );
      const earlier = seen.get(name);
      if (earlier !== undefined) fail(['waves', w, i], `target '${name}' is in wave ${earlier + 1} and wave ${w + 1}`);
      seen.set(name, w);
      return name;
    });
  });
  for (const target of targets)
    if (!seen.has(target.name))
      throw new InputError(input, `${file}:${target.line}: target '${target.name}' is in no wave`);
  const bake = top['bake-time'];
  const bakeTimeMs =
    bake === undefined ? 0 : parseDuration(scalarText(bake), `${input} ${at(['bake-time'])}: bake-time`);
  const parallel = top['max-parallel'];
  const maxParallel = parallel === undefined ? Number.MAX_SAFE_INTEGER : Number(parallel);
  if (!Number.isInteger(maxParallel) || maxParallel < 1)
    fail(['max-parallel'], `max-parallel must be a whole number of at least 1`);
  const onFailure = top['on-failure'] === undefined ? 'rollback-all' : scalarText(top['on-failure']);
  if (onFailure !== 'rollback-all' && onFailure !== 'stop')
    fail(['on-failure'], `on-failure must be rollback-all or stop, not '${onFailure}'`);
  const ahead = top['stage-ahead'] === undefined ? 'true' : scalarText(top['stage-ahead']);
  if (ahead !== 'true' && ahead !== 'false') fail(['stage-ahead'], `stage-ahead must be true or false, not '${ahead}'`);
  return {
    source: file,
    targets,
    waves,
    bakeTimeMs,
    maxParallel,
    onFailure: onFailure as WaveFailure,
    stageAhead: ahead === 'true',
  };
}

/**
 * The kubeconfig text of a target: from the environment variable it names (a CI secret) or its
 * file. `env` is the adapter's lookup (the engine never reads the environment itself).
 */
export function kubeconfigOf(
  target: TargetSpec,
  env: (name: string) => string | undefined,
  baseDir: string,
  input = 'targets',
): string {
  if (target.kubeconfigEnv) {
    const text = env(target.kubeconfigEnv);
    if (!text?.trim())
      throw new InputError(
        input,
        `target ${target.name}: the environment variable ${target.kubeconfigEnv} (kubeconfig-env) is not set or empty; give it the kubeconfig's contents from a secret`,
      );
    return text;
  }
  const file = target.kubeconfigFile ?? '';
  try {
    return readFileSync(isAbsolute(file) ? file : join(baseDir, file), 'utf8');
  } catch (error) {
    throw new InputError(
      input,
      `target ${target.name}: cannot read kubeconfig-file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}
