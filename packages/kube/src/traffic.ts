// Moves traffic: patches only the colour key of every switched Service's selector (a merge
// patch cannot empty or widen it), then proves the move by watching the Services'
// EndpointSlices until they hold only ready endpoints of the new colour, at least the desired count.
import type { KubeObject, KubePort } from './port.ts';
import { COLOR_LABEL, type Color } from './state.ts';

export interface ServiceObject extends KubeObject {
  spec?: {
    selector?: Record<string, string>;
    ports?: { name?: string; port: number; nodePort?: number }[];
    type?: string;
  };
}

/** `color` undefined removes the key: back to a legacy Deployment's pods (adoption rollback). */
export async function switchServices(
  kube: KubePort,
  namespace: string,
  services: string[],
  color: Color | undefined,
  annotations: Record<string, string | null>,
): Promise<void> {
  await Promise.all(
    services.map((name) =>
      kube.mergePatch('Service', namespace, name, {
        metadata: { annotations },
        spec: { selector: { [COLOR_LABEL]: color ?? null } },
      }),
    ),
  );
}

export async function annotate(
  kube: KubePort,
  kind: string,
  namespace: string,
  name: string,
  annotations: Record<string, string | null>,
): Promise<void> {
  await kube.mergePatch(kind, namespace, name, { metadata: { annotations } });
}

interface EndpointSlice extends KubeObject {
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string };
  }[];
}

export interface EndpointReport {
  service: string;
  ready: number;
  readyNew: number;
  readyOther: string[];
}

/** Judges one Service's slices: the ready endpoints, and those that are not pods of `accept`. */
export function judgeSlices(
  service: string,
  slices: Iterable<EndpointSlice>,
  accept: (pod: string) => boolean,
): EndpointReport {
  let ready = 0;
  let readyNew = 0;
  const readyOther: string[] = [];
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      ready++;
      const pod = endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef.name : undefined;
      if (pod && accept(pod)) readyNew++;
      else readyOther.push(pod ?? endpoint.addresses.join(','));
    }
  }
  return { service, ready, readyNew, readyOther };
}

export class EndpointVerificationError extends Error {
  readonly reports: EndpointReport[];
  constructor(timeoutMs: number, reports: EndpointReport[]) {
    super(
      `endpoints did not move within ${Math.round(timeoutMs / 1000)}s: ` +
        reports
          .map(
            (r) =>
              `${r.service} has ${r.readyNew} ready new endpoints${r.readyOther.length ? ` and still ${r.readyOther.join(', ')}` : ''}`,
          )
          .join('; '),
    );
    this.name = 'EndpointVerificationError';
    this.reports = reports;
  }
}

/**
 * Waits until every Service's EndpointSlices list only ready endpoints whose pods `accept`
 * takes, at least `desired` of them. Not cancellable by the deploy's signal on purpose: once the
 * selector moved, the switch is verified or reverted, never left half-known.
 */
export async function verifyEndpoints(
  kube: KubePort,
  namespace: string,
  services: string[],
  accept: (pod: string) => boolean,
  desired: number,
  timeoutMs: number,
): Promise<EndpointReport[]> {
  const signal = AbortSignal.timeout(timeoutMs);
  const latest = new Map<string, EndpointReport>();
  try {
    return await Promise.all(
      services.map((service) =>
        kube.watchUntil<EndpointSlice, EndpointReport>(
          'EndpointSlice',
          namespace,
          { labelSelector: `kubernetes.io/service-name=${service}` },
          (slices) => {
            const report = judgeSlices(service, slices.values(), accept);
            latest.set(service, report);
            return report.readyOther.length === 0 && report.readyNew >= desired ? report : undefined;
          },
          signal,
        ),
      ),
    );
  } catch (error) {
    if (signal.aborted) throw new EndpointVerificationError(timeoutMs, [...latest.values()]);
    throw error;
  }
}

/** How a check reaches a Service without an ingress: the API server's service proxy. */
export function serviceProxyUrl(server: string, namespace: string, service: ServiceObject): string {
  const port = service.spec?.ports?.[0];
  const portPart = port ? `:${port.name || port.port}` : '';
  return `${server}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service.metadata.name)}${portPart}/proxy/`;
}
