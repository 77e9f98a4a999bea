// Helpers every cluster test shares: skip-or-fail without a cluster, namespaces that clean up
// after themselves, kubectl with argument arrays, and a Service's NodePort.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { kubectlBinary, missingClusterReason, testKubeconfig } from './kubeconfig.ts';

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
  kubeconfig?: string;
  input?: string;
  timeoutMs?: number;
}

export function kubectl(args: string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const kubeconfig = options.kubeconfig ?? testKubeconfig();
  if (!kubeconfig) throw new Error(missingClusterReason() ?? 'no cluster');
  return new Promise((resolve) => {
    const child = execFile(
      kubectlBinary(),
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

export async function kubectlOk(args: string[], options: KubectlOptions = {}): Promise<string> {
  const result = await kubectl(args, options);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

export async function kubectlJson<T>(args: string[], options: KubectlOptions = {}): Promise<T> {
  return JSON.parse(await kubectlOk([...args, '-o', 'json'], options)) as T;
}

export interface TestNamespace {
  name: string;
  remove(): Promise<void>;
}

/** A fresh namespace `<prefix>-<random>`; `remove` deletes it and waits until it is gone. */
export async function createNamespace(prefix: string): Promise<TestNamespace> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubectlOk(['create', 'namespace', name]);
  return {
    name,
    remove: async () => {
      await kubectl(['delete', 'namespace', name, '--wait=true', '--timeout=120s']);
    },
  };
}

export async function nodePortOf(namespace: TestNamespace | string, service: string): Promise<number> {
  const ns = typeof namespace === 'string' ? namespace : namespace.name;
  const svc = await kubectlJson<{ spec: { ports: { nodePort?: number }[] } }>(['-n', ns, 'get', 'service', service]);
  const port = svc.spec.ports[0]?.nodePort;
  if (!port) throw new Error(`Service ${ns}/${service} has no NodePort`);
  return port;
}
