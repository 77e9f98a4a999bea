// Helpers every cluster test shares: skip-or-fail without a cluster, namespaces that clean up
// after themselves, kubectl with argument arrays, YAML applied through stdin, waiting for a
// condition, and a Service's NodePort.
import type { TestContext } from 'node:test';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errorMessage, waitUntil, WaitTimeoutError } from '@adci/common/basics';
import { clusterPaths, clusterStateDir } from './config.ts';
import { kubectlBinary, missingClusterReason, namedCluster, testKubeconfig, type NamedCluster } from './kubeconfig.ts';
import { clusterCpuSeconds, clusterMemory, type ClusterMemory } from './memory.ts';
import { readPidRecords } from './processes.ts';

export { kubectlBinary, missingClusterReason, namedCluster, nodeAddress, testKubeconfig } from './kubeconfig.ts';
export type { NamedCluster } from './kubeconfig.ts';
export type { ClusterMemory } from './memory.ts';

/** Outside CI a missing cluster skips a test (the reason); in CI it fails it (false). */
export function clusterTestSkip(): string | false {
  const reason = missingClusterReason();
  return reason && !process.env.CI ? reason : false;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Default: testKubeconfig(). */
  kubeconfig?: string;
  /** The kubectl binary; default kubectlBinary(). A named cluster's handle gives its own. */
  kubectlPath?: string;
  /** Written to kubectl's stdin (for `-f -`). */
  input?: string;
  /** kubectl is killed after this long; default 150 s. */
  timeoutMs?: number;
}

/** Runs the test cluster's kubectl with an argument array; never throws for a non-zero exit. */
export function kubectl(args: string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const kubeconfig = options.kubeconfig ?? testKubeconfig();
  if (!kubeconfig) return Promise.reject(new Error(missingClusterReason() ?? 'no cluster'));
  return new Promise((resolve) => {
    const child = execFile(
      options.kubectlPath ?? kubectlBinary(),
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: options.timeoutMs ?? 150_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** kubectl that must succeed: its stdout, or an error with the command, exit code and output. */
export async function kubectlOk(args: string[], options: KubectlOptions = {}): Promise<string> {
  const result = await kubectl(args, options);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** kubectl ... -o json, parsed. */
export async function kubectlJson<T>(args: string[], options: KubectlOptions = {}): Promise<T> {
  return JSON.parse(await kubectlOk([...args, '-o', 'json'], options)) as T;
}

/** Applies manifests in a namespace through stdin: YAML/JSON text, an object, or a list of objects. */
export async function applyManifest(
  namespace: TestNamespace | string,
  manifest: string | object | object[],
  options: KubectlOptions = {},
): Promise<string> {
  const input =
    typeof manifest === 'string'
      ? manifest
      : JSON.stringify(Array.isArray(manifest) ? { apiVersion: 'v1', kind: 'List', items: manifest } : manifest);
  return kubectlOk(['apply', '-n', nameOf(namespace), '-f', '-'], { ...options, input });
}

export interface WaitForOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  /** Default 500 ms. */
  intervalMs?: number;
}

/**
 * Polls `probe` (through waitUntil) until it returns something other than undefined/false. A probe
 * that throws counts as "not yet" (kubectl says NotFound until the object exists); the last such
 * error is added to the timeout's message.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions = {},
): Promise<T> {
  let lastError: unknown;
  try {
    return await waitUntil(
      async () => {
        try {
          return await probe();
        } catch (error) {
          lastError = error;
          return undefined;
        }
      },
      { description, timeoutMs: options.timeoutMs ?? 60_000, intervalMs: options.intervalMs ?? 500 },
    );
  } catch (error) {
    if (error instanceof WaitTimeoutError && lastError !== undefined) {
      throw new Error(`${error.message} (last error: ${errorMessage(lastError)})`, { cause: error });
    }
    throw error;
  }
}

export interface TestNamespace {
  name: string;
  /** Deletes the namespace and waits until it is gone; safe to call twice. */
  remove(): Promise<void>;
}

const nameOf = (namespace: TestNamespace | string): string =>
  typeof namespace === 'string' ? namespace : namespace.name;

/**
 * A fresh namespace `<prefix>-<random>`, ready for pods (its default ServiceAccount exists: pods
 * are refused until it does). `remove` deletes it and waits until it is gone.
 */
export async function createNamespace(prefix: string, options: KubectlOptions = {}): Promise<TestNamespace> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubectlOk(['create', 'namespace', name], options);
  let removal: Promise<void> | undefined;
  const namespace: TestNamespace = {
    name,
    remove: () =>
      (removal ??= (async () => {
        const result = await kubectl(['delete', 'namespace', name, '--wait=true', '--timeout=120s'], options);
        if (result.code !== 0 && !/NotFound/.test(result.stderr)) {
          throw new Error(`namespace ${name} was not deleted: ${result.stderr.trim()}`);
        }
      })()),
  };
  try {
    await waitFor(`ServiceAccount default in ${name}`, async () =>
      (await kubectl(['get', 'serviceaccount', 'default', '-n', name], options)).code === 0 ? true : undefined,
    );
  } catch (error) {
    await namespace.remove().catch(() => undefined);
    throw error;
  }
  return namespace;
}

/** createNamespace, removed when the test `t` ends (pass or fail). */
export async function useNamespace(
  t: TestContext,
  prefix: string,
  options: KubectlOptions = {},
): Promise<TestNamespace> {
  const namespace = await createNamespace(prefix, options);
  t.after(() => namespace.remove());
  return namespace;
}

interface ServicePorts {
  spec: { ports: { name?: string; port: number; nodePort?: number }[] };
}

/** The NodePort of a Service's port (by name or number; default its first port). */
export async function nodePortOf(
  namespace: TestNamespace | string,
  service: string,
  port?: string | number,
  options: KubectlOptions = {},
): Promise<number> {
  const ns = nameOf(namespace);
  const svc = await kubectlJson<ServicePorts>(['-n', ns, 'get', 'service', service], options);
  const entry = port === undefined ? svc.spec.ports[0] : svc.spec.ports.find((p) => p.name === port || p.port === port);
  const nodePort = entry?.nodePort;
  if (!nodePort) {
    throw new Error(`Service ${ns}/${service} has no NodePort${port === undefined ? '' : ` for port ${port}`}`);
  }
  return nodePort;
}

/**
 * A namespace for the example ad platform (examples/ad-platform): its virtual environment is set
 * up (the kubelet runs the venv of the checkout that started the cluster; in CI, this one) and the
 * `ad-platform-tokens` Secret its Deployment reads holds `apiTokens` (`owner=token,…`).
 */
export async function createAdPlatformNamespace(prefix: string, apiTokens: string): Promise<TestNamespace> {
  const setup = spawnSync(
    'bash',
    [join(import.meta.dirname, '..', '..', 'examples', 'ad-platform', 'scripts', 'setup-venv.sh')],
    {
      encoding: 'utf8',
    },
  );
  if (setup.status !== 0) throw new Error(`setup-venv.sh failed:\n${setup.stdout}\n${setup.stderr}`);
  const namespace = await createNamespace(prefix);
  try {
    await kubectlOk([
      '-n',
      namespace.name,
      'create',
      'secret',
      'generic',
      'ad-platform-tokens',
      `--from-literal=api-tokens=${apiTokens}`,
    ]);
  } catch (error) {
    await namespace.remove().catch(() => undefined);
    throw error;
  }
  return namespace;
}

/** A named local cluster a test uses: where it is, and options that point the helpers above at it. */
export interface ClusterHandle extends NamedCluster {
  /** `{ kubeconfig, kubectlPath }` of this cluster, for kubectl(), applyManifest(), createNamespace()… */
  options: KubectlOptions;
  /** Whether ensureClusters started it (and its stop() stops it). */
  startedHere: boolean;
  /** Wall time of its `npm run cluster -- up --name` when started here, in ms. */
  upMs?: number;
}

export interface ClusterSet {
  /** By name. */
  clusters: Record<string, ClusterHandle>;
  /** In the order asked for. */
  list: ClusterHandle[];
  /** Stops (`down --name`) only the clusters this set started; safe to call twice. */
  stop(): Promise<void>;
  /** Stops one cluster this set started, now (stop() then leaves it alone). */
  stopOne(name: string): Promise<void>;
}

const clusterCli = join(import.meta.dirname, 'cli.ts');

function runClusterCli(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [clusterCli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** `npm run cluster -- status --name <name>`: exit code and output. */
export function namedClusterStatus(name: string): Promise<{ code: number; output: string }> {
  return runClusterCli(['status', '--name', name]);
}

/**
 * Skip reason for a test that starts named clusters: they need root (network namespaces). In CI
 * (env CI set) nothing is skipped, so a machine that cannot run them fails the test.
 */
export function namedClustersSkip(): string | false {
  if (process.env.CI) return false;
  if (process.getuid?.() !== 0) return 'named local clusters need root (network namespaces, bridges)';
  return false;
}

/**
 * The named local clusters a test needs: those already up (healthy by `status --name`) are used
 * as they are; the others are started at once, side by side (`up --name`, building the binaries
 * first if this machine never did). stop() stops only the ones started here, as scripts/demo.ts
 * does for the default cluster. A failed start stops what this call started and throws with the
 * output of `up`.
 */
export async function ensureClusters(names: string[]): Promise<ClusterSet> {
  if (new Set(names).size !== names.length)
    throw new Error(`ensureClusters: a name is given twice: ${names.join(', ')}`);
  const running = await Promise.all(
    names.map(async (name) => namedCluster(name) !== undefined && (await namedClusterStatus(name)).code === 0),
  );
  const toStart = names.filter((_, i) => !running[i]);
  const startedHere = new Set<string>();
  const upMs = new Map<string, number>();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const results = await Promise.all([...startedHere].map((name) => runClusterCli(['down', '--name', name])));
      const failed = results.map((r, i) => ({ ...r, name: [...startedHere][i] })).filter((r) => r.code !== 0);
      if (failed.length) {
        throw new Error(failed.map((f) => `down --name ${f.name} failed:\n${f.output}`).join('\n'));
      }
    })());
  const ups = await Promise.all(
    toStart.map(async (name) => {
      const started = Date.now();
      startedHere.add(name);
      const result = await runClusterCli(['up', '--name', name]);
      upMs.set(name, Date.now() - started);
      return { name, ...result };
    }),
  );
  const failed = ups.filter((u) => u.code !== 0);
  if (failed.length) {
    await stop().catch(() => undefined);
    throw new Error(failed.map((f) => `up --name ${f.name} failed (exit ${f.code}):\n${f.output}`).join('\n'));
  }
  const list = names.map((name): ClusterHandle => {
    const cluster = namedCluster(name);
    if (!cluster) throw new Error(`cluster ${name} is up but has no cluster.json in ${clusterStateDir(name)}`);
    const ms = upMs.get(name);
    return {
      ...cluster,
      options: { kubeconfig: cluster.kubeconfig, kubectlPath: cluster.kubectl },
      startedHere: startedHere.has(name),
      ...(ms === undefined ? {} : { upMs: ms }),
    };
  });
  const stopOne = async (name: string) => {
    if (!startedHere.has(name)) throw new Error(`stopOne: cluster ${name} was not started by this ensureClusters`);
    startedHere.delete(name);
    const result = await runClusterCli(['down', '--name', name]);
    if (result.code !== 0) throw new Error(`down --name ${name} failed:\n${result.output}`);
  };
  return { clusters: Object.fromEntries(list.map((c) => [c.name, c])), list, stop, stopOne };
}

/** Resident memory of a local cluster's processes (the default one without a name) and its pods'. */
export async function localClusterMemory(name?: string): Promise<ClusterMemory> {
  return clusterMemory(await readPidRecords(clusterPaths(clusterStateDir(name))));
}

/** CPU seconds (user + system) used so far by a local cluster's components and pod processes. */
export async function localClusterCpuSeconds(name?: string): Promise<number> {
  return clusterCpuSeconds(await readPidRecords(clusterPaths(clusterStateDir(name))));
}
