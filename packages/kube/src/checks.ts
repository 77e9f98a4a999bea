// Runs a checks document (the smoke-test format) against the preview or the active Service.
// By default the URL is the API server's service proxy: the probe client then carries the
// kubeconfig's own CA, client certificate or token, so no ingress is needed.
import { scalarText, type Clock, type Logger, type Redactor } from '@adci/common';
import { runAnalysis } from '@adci/analysis';
import type { HttpClientOptions } from '@adci/probe';
import type { KubeClient } from './client.ts';
import type { AnalysisRunner, BlueGreenSettings, CheckRunner } from './model.ts';

export async function proxyTransport(kube: KubeClient): Promise<HttpClientOptions> {
  const options: {
    ca?: unknown;
    cert?: unknown;
    key?: unknown;
    servername?: unknown;
    rejectUnauthorized?: unknown;
    auth?: unknown;
    headers?: Record<string, unknown>;
  } = { headers: {} };
  await kube.applyToHTTPSOptions(options);
  const text = (v: unknown): string | undefined =>
    v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : scalarText(v);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) if (typeof v === 'string') headers[k] = v;
  // A kubeconfig user with username and password (basic auth) comes back as `auth`.
  if (typeof options.auth === 'string' && !headers.Authorization)
    headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  // The kubeconfig's tls-server-name and insecure-skip-tls-verify apply to the proxy as to the API.
  return {
    tls: {
      ca: text(options.ca),
      cert: text(options.cert),
      key: text(options.key),
      servername: text(options.servername),
    },
    insecureTls: options.rejectUnauthorized === false,
    headers,
  };
}

export function createCheckRunner(kube: KubeClient, ports: { logger: Logger; redactor?: Redactor }): CheckRunner {
  return async (phase, document, baseUrl, signal) => {
    const viaProxy = baseUrl.startsWith(`${kube.server}/`);
    const transport: HttpClientOptions = viaProxy ? await proxyTransport(kube) : {};
    for (const value of Object.values(transport.headers ?? {})) ports.redactor?.add(value);
    // The probe engine loads with the first checks: a run without checks (status) never loads it.
    const { SMOKE_DEFAULTS, createHttpClient, runSmoke } = await import('@adci/probe');
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

/**
 * The placeholders a deploy fills: the image tag as `version`, the colour, namespace, revision, app,
 * plus the analysis-vars input's `extra` (which buildDeploySettings keeps off the deploy's own names;
 * the deploy's values win regardless).
 */
export function analysisVars(
  image: string | undefined,
  color: string,
  namespace: string,
  revision: number,
  app: string,
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  const withoutDigest = image?.split('@')[0] ?? '';
  const tagAt = withoutDigest.lastIndexOf(':');
  const version = tagAt > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(tagAt + 1) : image;
  return { ...extra, version, color, namespace, revision: String(revision), app };
}

/** Analysis with @adci/analysis against the settings' Prometheus (or each file's own). */
export function defaultAnalysisRunner(
  settings: Pick<BlueGreenSettings, 'prometheusUrl' | 'prometheusToken'>,
  logger: Logger,
  clock: Clock,
  redactor?: Redactor,
): AnalysisRunner {
  return (_phase, document, vars, signal, timeoutMs) =>
    runAnalysis(
      {
        document,
        vars,
        prometheusUrl: settings.prometheusUrl,
        auth: settings.prometheusToken ? { bearerToken: settings.prometheusToken } : undefined,
        timeoutMs,
      },
      { logger, clock, signal, redactor, env: () => undefined },
    );
}
