// A minimal HTTPS client for bootstrapping and health checks, with the admin client
// certificate; tests use kubectl instead.
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCluster, type ClusterConfig, type ClusterPaths } from './config.ts';

export interface ApiResponse {
  status: number;
  body: string;
}

export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export function adminTls(paths: ClusterPaths = defaultCluster.paths): TlsOptions {
  return {
    ca: readFileSync(join(paths.pki, 'ca.crt')),
    cert: readFileSync(join(paths.pki, 'admin.crt')),
    key: readFileSync(join(paths.pki, 'admin.key')),
  };
}

export function httpsRequest(
  url: string,
  options: { method?: string; body?: unknown; tls?: TlsOptions; timeoutMs?: number; contentType?: string } = {},
): Promise<ApiResponse> {
  return new Promise((resolvePromise, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.tls?.ca,
        cert: options.tls?.cert,
        key: options.tls?.key,
        // Components' own self-signed serving certificates on loopback are checked for liveness only.
        rejectUnauthorized: options.tls?.ca !== undefined,
        timeout: options.timeoutMs ?? 5000,
        headers: payload
          ? { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 5000}ms: ${url}`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export class KubeApi {
  private readonly tls: TlsOptions;
  private readonly apiserverUrl: string;
  constructor(cluster: ClusterConfig = defaultCluster, tls: TlsOptions = adminTls(cluster.paths)) {
    this.apiserverUrl = cluster.apiserverUrl;
    this.tls = tls;
  }

  async call(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse> {
    return httpsRequest(`${this.apiserverUrl}${path}`, { method, body, tls: this.tls, contentType, timeoutMs: 10_000 });
  }

  async get<T>(path: string): Promise<T | undefined> {
    const res = await this.call('GET', path);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as T;
  }

  /** Creates an object; an existing one is left as it is. */
  async create(path: string, body: unknown): Promise<void> {
    const res = await this.call('POST', path, body);
    if (res.status !== 201 && res.status !== 200 && res.status !== 409) {
      throw new Error(`POST ${path}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    }
  }
}
