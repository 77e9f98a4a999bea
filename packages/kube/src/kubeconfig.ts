// The kubeconfig read without @kubernetes/client-node for the common case: one file (or the given
// text) whose context's cluster is HTTPS and whose user authenticates with a client certificate,
// a token or a password. client-node's KubeConfig evaluates its generated API models (megabytes)
// when it loads, most of a short run's start-up; anything else (exec and auth-provider plugins,
// token files, impersonation, proxies, several KUBECONFIG files, in-cluster) is read by client-node,
// loaded then, so its behaviour is kept where this reader does not go.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** What a request needs: where, which TLS material, which headers. Mirrors client-node's options. */
export interface KubeAccess {
  server: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Authorization (Bearer token or Basic), as client-node sets it. */
  headers: Record<string, string>;
  /** For `auth` in https options (username:password), as client-node's applyToHTTPSOptions gives it. */
  basicAuth?: string;
  contextNamespace?: string;
}

export interface LightKubeconfig {
  contexts: string[];
  /** The access of the chosen context; undefined when client-node must read this kubeconfig. */
  access?: KubeAccess;
}

const CLUSTER_KEYS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
]);
const USER_KEYS = new Set([
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'username',
  'password',
]);

type Named = { name?: unknown; cluster?: unknown; user?: unknown; context?: unknown };

function namedEntry(list: unknown, name: unknown, field: 'cluster' | 'user' | 'context'): unknown {
  if (!Array.isArray(list)) return undefined;
  const entry = (list as Named[]).find((e) => e && typeof e === 'object' && e.name === name);
  return entry?.[field];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A file named in the kubeconfig, relative to the kubeconfig's folder (as client-node reads it). */
function fileOrData(dir: string | undefined, file: unknown, data: unknown): Buffer | undefined {
  if (typeof file === 'string' && file) return readFileSync(dir && !isAbsolute(file) ? join(dir, file) : file);
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  return undefined;
}

/** The kubeconfig file client-node's loadFromDefault would read, when it is exactly one file. */
function defaultFile(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.KUBECONFIG;
  if (fromEnv) {
    const paths = fromEnv.split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
    return paths.length === 1 && existsSync(paths[0] as string) ? paths[0] : undefined;
  }
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? home : undefined;
}

/**
 * Reads the kubeconfig (the given text, else the one default file); `access` is undefined when
 * client-node must read it (see the top of this file). Throws only on unreadable YAML or files.
 */
export function readKubeconfig(
  options: { kubeconfig?: string; context?: string },
  env: NodeJS.ProcessEnv = process.env,
): LightKubeconfig | undefined {
  let text = options.kubeconfig;
  let dir: string | undefined;
  if (text === undefined) {
    const file = defaultFile(env);
    if (!file) return undefined;
    text = readFileSync(file, 'utf8');
    dir = dirname(file);
  }
  const doc: unknown = parse(text);
  if (!isRecord(doc)) return undefined;
  const contexts = Array.isArray(doc.contexts)
    ? (doc.contexts as Named[]).map((c) => c?.name).filter((n): n is string => typeof n === 'string')
    : [];
  const contextName = options.context ?? doc['current-context'];
  const context = namedEntry(doc.contexts, contextName, 'context');
  if (!isRecord(context)) return { contexts };
  const cluster = namedEntry(doc.clusters, context.cluster, 'cluster');
  const user = namedEntry(doc.users, context.user, 'user');
  if (!isRecord(cluster) || !isRecord(user)) return { contexts };
  if (Object.keys(cluster).some((k) => !CLUSTER_KEYS.has(k))) return { contexts };
  if (Object.keys(user).some((k) => !USER_KEYS.has(k))) return { contexts };
  const server = cluster.server;
  if (typeof server !== 'string' || !server.startsWith('https://')) return { contexts };
  const access: KubeAccess = {
    server,
    skipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    headers: {},
  };
  if (typeof cluster['tls-server-name'] === 'string') access.tlsServerName = cluster['tls-server-name'];
  const ca = fileOrData(dir, cluster['certificate-authority'], cluster['certificate-authority-data']);
  const cert = fileOrData(dir, user['client-certificate'], user['client-certificate-data']);
  const key = fileOrData(dir, user['client-key'], user['client-key-data']);
  if (ca) access.ca = ca;
  if (cert) access.cert = cert;
  if (key) access.key = key;
  if (typeof user.username === 'string' && user.username) {
    access.basicAuth = `${user.username}:${typeof user.password === 'string' ? user.password : ''}`;
    access.headers.Authorization = `Basic ${Buffer.from(access.basicAuth).toString('base64')}`;
  }
  // A token wins over a password, as in client-node (its headers are applied after Basic).
  if (typeof user.token === 'string' && user.token) access.headers.Authorization = `Bearer ${user.token}`;
  if (typeof context.namespace === 'string') access.contextNamespace = context.namespace;
  return { contexts, access };
}
