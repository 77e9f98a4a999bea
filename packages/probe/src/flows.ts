// Virtual users of the open model (Artillery scenarios): each arrival runs one flow, a sequence of
// requests and pauses with captured values carried from one request to the next. The first
// request's latency counts from the arrival's scheduled time (coordinated omission), later ones
// from when the flow was ready to send them. As in Artillery, an unexpected status or a failed
// expectation is counted (here, as an error) and the flow goes on; a transport error or a failed
// capture ends the virtual user's flow, since what follows would be sent without its values.
import { scalarText, templateNames, type Clock, type TemplateLookup } from '@adci/common';
import { TransportError, type HttpClient, type LoadRequest, type TransportErrorKind } from './http.ts';
import { buildRequest, loadRequestOf } from './request.ts';
import { prepareJsonPath, readValue, statusMatches } from './expect.ts';
import type { FlowData, FlowExpectation, FlowStep, LoadFlow, LoadRequestSpec, LoadSpec } from './types.ts';

/** The load phase's counters, as a flow reports into them (load.ts implements it). */
export interface FlowRecorder {
  /** A request is about to be sent; latency counts from `startedAt`. Returns its token. */
  begin(startedAt: number): unknown;
  /** It answered (or failed): `failure` names what went wrong when `ok` is false and `kind` is undefined. */
  end(token: unknown, status: number, kind: TransportErrorKind | undefined, ok: boolean, failure?: string): void;
  /** The flow could not build its next request (an `{{ env.NAME }}` with no value). */
  error(kind: string): void;
  /** True once the load phase no longer wants new steps (aborted, cancelled or drained). */
  halted(): boolean;
}

/** Every request a load phase may send: its `requests` and its flows' requests (for secrets and checks). */
export function loadRequests(load: LoadSpec): LoadRequestSpec[] {
  const fromFlows = (load.flows ?? []).flatMap((f) =>
    f.steps.flatMap((s) => (s.kind === 'request' ? [s.request] : [])),
  );
  return [...load.requests, ...fromFlows];
}

export interface FlowTarget {
  baseUrl: URL;
  headers: Record<string, string>;
  timeoutMs: number;
  lookup: TemplateLookup;
}

const defaultSuccess = (status: number): boolean => status >= 200 && status < 400;

type RequestStep = Extract<FlowStep, { kind: 'request' }>;

interface PreparedStep {
  step: RequestStep;
  /** Built once when nothing in it depends on the virtual user; built per send otherwise. */
  fixed?: LoadRequest;
  /** The response must be read (captures, content type, properties). */
  readsResponse: boolean;
  success: (status: number) => boolean;
}

function usesPlaceholders(request: LoadRequestSpec): boolean {
  const texts = [request.path ?? '', request.url ?? '', request.body ?? '', ...Object.values(request.headers)];
  if (request.json !== undefined) texts.push(JSON.stringify(request.json));
  return texts.some((t) => templateNames(t).length > 0);
}

function toLoadRequest(request: LoadRequestSpec, target: FlowTarget, lookup: TemplateLookup): LoadRequest {
  return loadRequestOf(buildRequest(request, target.baseUrl, target.headers, lookup));
}

/** Weighted round robin (smooth, as nginx's): flows interleave in proportion to their weights. */
function weightedOrder(flows: LoadFlow[]): number[] {
  const total = flows.reduce((sum, f) => sum + f.weight, 0);
  const current = flows.map(() => 0);
  const order: number[] = [];
  for (let n = 0; n < Math.min(total, 10_000); n++) {
    let best = 0;
    flows.forEach((f, i) => {
      current[i] = (current[i] as number) + f.weight;
      if (current[i] > (current[best] as number)) best = i;
    });
    current[best] = (current[best] as number) - total;
    order.push(best);
  }
  return order;
}

/** `a.b[0].c` -> found in a parsed JSON body (lodash's `_.has`, which artillery-plugin-expect uses). */
export function hasProperty(document: unknown, path: string): boolean {
  let node: unknown = document;
  for (const part of path
    .replace(/\[(\w+)\]/g, '.$1')
    .split('.')
    .filter((p) => p !== '')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}

const JSON_TYPES = ['application/json', 'application/problem+json', 'application/ld+json'];

/** artillery-plugin-expect's rules: `json` is a JSON type with a body that parses; any other value is the exact header. */
function expectationFailure(expect: FlowExpectation, contentType: string, body: string): string | undefined {
  if (expect.contentType === 'json') {
    if (!JSON_TYPES.some((t) => contentType.includes(t))) return 'failed-expectation';
    try {
      JSON.parse(body);
    } catch {
      return 'failed-expectation';
    }
  } else if (expect.contentType !== undefined && contentType.toLowerCase() !== expect.contentType.toLowerCase()) {
    return 'failed-expectation';
  }
  if (expect.hasProperty.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'failed-expectation';
  }
  return expect.hasProperty.every((p) => hasProperty(parsed, p)) ? undefined : 'failed-expectation';
}

export interface FlowRunner {
  /** Runs one virtual user from its scheduled arrival time; resolves when its flow ends. */
  run(scheduledAt: number): Promise<void>;
  /** The longest a flow spends in pauses: the drain after the schedule allows for it. */
  readonly thinkMs: number;
}

export function createFlowRunner(
  spec: LoadSpec,
  target: FlowTarget,
  client: HttpClient,
  clock: Clock,
  recorder: FlowRecorder,
  signal?: AbortSignal,
): FlowRunner | undefined {
  const flows = spec.flows;
  if (!flows || flows.length === 0) return undefined;
  const prepared = flows.map((flow) =>
    flow.steps.map((step): PreparedStep | number => {
      if (step.kind === 'think') return step.ms;
      const p: PreparedStep = {
        step,
        readsResponse:
          Object.keys(step.capture).length > 0 ||
          step.expect.contentType !== undefined ||
          step.expect.hasProperty.length > 0,
        success: step.request.status
          ? (
              (expected) => (s: number) =>
                statusMatches(s, expected)
            )(step.request.status)
          : defaultSuccess,
      };
      if (!usesPlaceholders(step.request)) p.fixed = toLoadRequest(step.request, target, target.lookup);
      return p;
    }),
  );
  const order = weightedOrder(flows);
  let nextFlow = 0;
  const data: FlowData = spec.data ?? { variables: {}, rows: [], order: 'sequence' };
  let nextValue = 0;

  /** The values of one virtual user: the next of each variable's list, and one payload row. */
  const userValues = (): Map<string, string> => {
    const values = new Map<string, string>();
    const n = nextValue++;
    // As Artillery: each virtual user takes one of a list's values at random.
    for (const [name, list] of Object.entries(data.variables)) {
      values.set(name, list[Math.floor(Math.random() * list.length)] as string);
    }
    if (data.rows.length > 0) {
      const row =
        data.order === 'random'
          ? data.rows[Math.floor(Math.random() * data.rows.length)]
          : data.rows[n % data.rows.length];
      for (const [name, value] of Object.entries(row ?? {})) values.set(name, value);
    }
    return values;
  };

  /** Sends one step; true when the flow may go on. */
  const sendStep = async (p: PreparedStep, startedAt: number, values: Map<string, string>): Promise<boolean> => {
    const lookup: TemplateLookup = (name) => values.get(name) ?? target.lookup(name);
    let request: LoadRequest;
    try {
      request = p.fixed ?? toLoadRequest(p.step.request, target, lookup);
    } catch {
      recorder.error('template');
      return false;
    }
    const token = recorder.begin(startedAt);
    if (!p.readsResponse) {
      const [status, kind] = await new Promise<[number, TransportErrorKind | undefined]>((resolve) =>
        client.fire(request, target.timeoutMs, (s, k) => resolve([s, k])),
      );
      recorder.end(token, status, kind, kind === undefined && p.success(status));
      return kind === undefined;
    }
    let response;
    try {
      const sent: Parameters<HttpClient['send']>[0] = {
        method: request.method,
        url: new URL(request.path, request.origin),
        headers: request.headers,
        timeoutMs: target.timeoutMs,
      };
      if (request.body !== undefined) sent.body = request.body;
      response = await client.send(sent);
    } catch (error) {
      recorder.end(token, 0, error instanceof TransportError ? error.kind : 'other', false);
      return false;
    }
    const statusOk = p.success(response.status);
    const failed = statusOk
      ? expectationFailure(p.step.expect, response.headers['content-type'] ?? '', response.body)
      : 'unexpected-status';
    const captures = Object.entries(p.step.capture);
    if (failed && captures.length === 0) {
      recorder.end(token, response.status, undefined, false, failed);
      return true;
    }
    if (captures.length > 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(response.body);
      } catch {
        recorder.end(token, response.status, undefined, false, 'failed-capture');
        return false;
      }
      for (const [name, path] of captures) {
        const { found, value } = readValue(parsed, path);
        if (!found || value === null || typeof value === 'object') {
          recorder.end(token, response.status, undefined, false, 'failed-capture');
          return false;
        }
        values.set(name, scalarText(value));
      }
    }
    recorder.end(token, response.status, undefined, failed === undefined, failed);
    return true;
  };

  const thinkMs = Math.max(
    0,
    ...flows.map((f) => f.steps.reduce((sum, s) => sum + (s.kind === 'think' ? s.ms : 0), 0)),
  );

  // The JSONPath library, when a capture needs it: loading starts now, each flow waits for it once.
  let jsonPath: Promise<void> | undefined = prepareJsonPath(
    flows.flatMap((flow) => flow.steps.flatMap((step) => (step.kind === 'request' ? Object.values(step.capture) : []))),
  );
  return {
    thinkMs,
    async run(scheduledAt) {
      if (jsonPath) {
        await jsonPath;
        jsonPath = undefined;
      }
      const steps = prepared[order[nextFlow] as number] as (PreparedStep | number)[];
      nextFlow = (nextFlow + 1) % order.length;
      const values = userValues();
      let from = scheduledAt;
      for (const step of steps) {
        if (recorder.halted()) return;
        if (typeof step === 'number') {
          const ok = await clock.sleep(step, signal).then(
            () => true,
            () => false,
          );
          if (!ok) return;
          from = clock.now();
          continue;
        }
        if (!(await sendStep(step, from, values))) return;
        from = clock.now();
      }
    },
  };
}
