// The first thing a person asks after "it failed" is "why": the failing container's last
// termination (reason, exit code) and its last log lines, read from the API server and masked
// before anyone sees them.
import { errorMessage } from '@adci/common';
import type { ContainerDiagnosis } from './model.ts';
import type { KubePort } from './port.ts';
import type { PodObject } from './readiness.ts';

export const LOG_LINES = 20;

interface Status {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number } };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

/** The worst container of the pods: terminated or restarted first, then waiting, then not ready. */
function worst(pods: PodObject[]): { pod: PodObject; status: Status } | undefined {
  let best: { pod: PodObject; status: Status; score: number } | undefined;
  for (const pod of pods) {
    const statuses = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ] as Status[];
    for (const status of statuses) {
      const score =
        (status.lastState?.terminated || status.state?.terminated ? 4 : 0) +
        ((status.restartCount ?? 0) > 0 ? 2 : 0) +
        (status.state?.waiting ? 1 : 0) +
        (status.ready ? -10 : 0);
      if (score > 0 && (!best || score > best.score)) best = { pod, status, score };
    }
  }
  return best;
}

/** Reads why a colour's containers fail; undefined when none does (or nothing can be read). */
export async function diagnose(
  kube: KubePort,
  namespace: string,
  labelSelector: string,
  redact: (text: string) => string,
): Promise<ContainerDiagnosis | undefined> {
  let pods: PodObject[];
  try {
    pods = (await kube.list<PodObject>('Pod', namespace, { labelSelector })).items;
  } catch {
    return undefined;
  }
  const found = worst(pods);
  if (!found) return undefined;
  const { pod, status } = found;
  const terminated = status.lastState?.terminated ?? status.state?.terminated;
  const restarted = (status.restartCount ?? 0) > 0 && !status.state?.terminated;
  let logs: string[];
  const read = (previous: boolean): Promise<string> =>
    kube.podLogs(namespace, pod.metadata.name, status.name, { tailLines: LOG_LINES, previous });
  try {
    logs = (await read(restarted).catch(() => (restarted ? read(false) : Promise.reject(new Error('no log'))))).split(
      '\n',
    );
  } catch (error) {
    logs = [`(no log: ${errorMessage(error)})`];
  }
  while (logs.length && logs.at(-1) === '') logs.pop();
  return {
    pod: pod.metadata.name,
    container: status.name,
    reason: terminated?.reason ?? status.state?.waiting?.reason,
    exitCode: terminated?.exitCode,
    restarts: status.restartCount ?? 0,
    logs: logs.slice(-LOG_LINES).map((line) => redact(line)),
  };
}

/** One line for an error message: the termination and the last log line. */
export function diagnosisLine(d: ContainerDiagnosis): string {
  const termination = [d.reason, d.exitCode === undefined ? undefined : `exit code ${d.exitCode}`]
    .filter(Boolean)
    .join(', ');
  const last = d.logs
    .filter((l) => l.trim())
    .slice(-3)
    .join(' | ');
  return `container ${d.container} of ${d.pod}${termination ? ` (last termination: ${termination})` : ''}${
    last ? `; last log lines: ${last}` : ''
  }`;
}
