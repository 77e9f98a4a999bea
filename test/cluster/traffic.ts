// Traffic for cluster tests: open-model load through a NodePort with adci's own load generator,
// without retries, so every failed request counts (the zero-failed-requests checks of the deploy tests).
import { systemClock } from '@adci/common';
import { createHttpClient, parseChecksDocument, runLoad, type LoadResult } from '@adci/probe';
import { nodeAddress } from './kubeconfig.ts';

export type { LoadResult };

/** `rate` requests per second for `durationMs` to `GET /` of the NodePort (on the node's address by default). */
export async function trafficDuring(
  port: number,
  rate: number,
  durationMs: number,
  host: string = nodeAddress(),
): Promise<LoadResult> {
  const doc = await parseChecksDocument(
    `load:\n  rate: ${rate}/s\n  duration: ${durationMs}ms\n  path: /\n  max-in-flight: ${rate * 3}\n`,
    'load',
  );
  const client = createHttpClient();
  try {
    return await runLoad(
      doc.load as NonNullable<typeof doc.load>,
      { baseUrl: new URL(`http://${host}:${port}`), headers: {}, timeoutMs: 5000, lookup: () => undefined },
      { client, clock: systemClock },
    );
  } finally {
    await client.close();
  }
}

/** Requests that failed: errors, arrivals dropped at the in-flight cap, and any answer but 200. */
export function failedRequests(result: LoadResult): number {
  return (
    result.errors +
    result.dropped +
    Object.entries(result.statusCounts).reduce((n, [code, count]) => n + (code === '200' ? 0 : count), 0)
  );
}
