// Runs a checks document (the smoke-test format) against the preview or the active Service.
// By default the URL is the API server's service proxy: the probe client then carries the
// kubeconfig's own CA, client certificate or token, so no ingress is needed.
import type { Logger, Redactor } from '@adci/common';
import { SMOKE_DEFAULTS, createHttpClient, runSmoke, type HttpClientOptions } from '@adci/probe';
import type { KubeClient } from './client.ts';
import type { CheckRunner } from './deploy.ts';

async function proxyTransport(kube: KubeClient): Promise<HttpClientOptions> {
  const options: { ca?: unknown; cert?: unknown; key?: unknown; headers?: Record<string, unknown> } = { headers: {} };
  await kube.config.applyToHTTPSOptions(options as never);
  const text = (v: unknown): string | undefined =>
    v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) if (typeof v === 'string') headers[k] = v;
  return { tls: { ca: text(options.ca), cert: text(options.cert), key: text(options.key) }, headers };
}

export function createCheckRunner(kube: KubeClient, ports: { logger: Logger; redactor?: Redactor }): CheckRunner {
  return async (phase, document, baseUrl, signal) => {
    const viaProxy = baseUrl.startsWith(`${kube.server}/`);
    const transport: HttpClientOptions = viaProxy ? await proxyTransport(kube) : {};
    for (const value of Object.values(transport.headers ?? {})) ports.redactor?.add(value);
    const client = createHttpClient(transport);
    try {
      ports.logger.info(`${phase}-promotion checks against ${baseUrl}`);
      return await runSmoke(
        {
          ...SMOKE_DEFAULTS,
          baseUrl,
          checks: document.checks,
          load: document.load,
          headers: {},
          waitTimeoutMs: 60_000,
          waitIntervalMs: 1000,
          retries: 0,
        },
        { client, logger: ports.logger, redactor: ports.redactor, signal },
      );
    } finally {
      await client.close();
    }
  };
}
