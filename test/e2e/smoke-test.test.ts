// End-to-end: dist/smoke-test run through the runner harness against local HTTP services.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runActionBundle, type ActionResult } from '../runner/index.ts';
import { startFakeService, type FakeServiceOptions } from '../fakes/service.ts';
import { startTlsService } from '../fakes/service-tls.ts';
import type { SmokeResult } from '@adci/probe';

const workspace = mkdtempSync(join(tmpdir(), 'smoke-e2e-'));
after(() => rmSync(workspace, { recursive: true, force: true }));

const TOKEN = 'tok-8f3a61c2e9d04b7a';

async function withService<T>(options: FakeServiceOptions, body: (url: string) => Promise<T>): Promise<T> {
  const service = await startFakeService(options);
  try {
    return await body(service.url);
  } finally {
    await service.close();
  }
}

function smoke(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionResult> {
  return runActionBundle('smoke-test', {
    with: inputs,
    env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace, ...env },
    cwd: workspace,
    timeoutMs: 60_000,
  });
}

function checksFile(name: string, text: string): string {
  writeFileSync(join(workspace, name), text);
  return name;
}

function report(result: ActionResult): SmokeResult {
  assert.ok(result.outputs.report, `no report output; stderr: ${result.stderr}`);
  return JSON.parse(readFileSync(result.outputs.report, 'utf8')) as SmokeResult;
}

function errors(result: ActionResult): string[] {
  return result.annotations.filter((a) => a.level === 'error').map((a) => `${a.title ?? ''}: ${a.message}`);
}

test('waits for a service that refuses connections, then answers 503, then comes up', async () => {
  await withService({ refuseForMs: 1200, unavailableForMs: 1200 }, async (url) => {
    const result = await smoke({
      'base-url': url,
      'wait-for': '/healthz',
      'wait-interval': '250ms',
      'wait-timeout': '20s',
      checks: '- name: health\n  path: /healthz\n  expect: { json: { $.status: ok } }\n',
    });
    assert.equal(result.exitCode, 0, result.stdout);
    assert.equal(result.outputs.passed, '1');
    assert.equal(result.outputs.failed, '0');
    const r = report(result);
    assert.equal(r.wait?.ready, true);
    assert.ok((r.wait?.attempts ?? 0) >= 3, `expected several attempts, got ${r.wait?.attempts}`);
    assert.match(result.summary, /\| health \| ✅ 200 \|/);
  });
});

test('a wait that never succeeds fails with the last problem and skips the checks', async () => {
  await withService({ unavailableForMs: 60_000 }, async (url) => {
    const result = await smoke({
      'base-url': url,
      'wait-for': '/healthz',
      'wait-interval': '200ms',
      'wait-timeout': '1s',
      checks: '- path: /healthz\n',
    });
    assert.equal(result.exitCode, 1);
    assert.match(errors(result).join('\n'), /never became ready \(status 503\)/);
    assert.equal(report(result).checks[0]?.outcome, 'skipped');
  });
});

test('a journey with captures: create a campaign, read it back, delete it; secrets stay masked', async () => {
  await withService({ token: TOKEN }, async (url) => {
    const file = checksFile(
      'journey.yml',
      `checks:
  - name: create campaign
    method: POST
    path: /campaigns
    headers: { Authorization: "Bearer {{ env.API_TOKEN }}" }
    json: { name: smoke, budget: 100 }
    expect: { status: 201, json: { $.name: smoke, /budget: 100, $.id: { type: string } }, max-latency: 5s, headers: { location: "/^\\\\/campaigns\\\\/c\\\\d+$/" } }
    capture: { campaign_id: $.id, location: "header:Location" }
  - name: read it back
    path: /campaigns/{{ campaign_id }}
    headers: { Authorization: "Bearer {{ env.API_TOKEN }}" }
    expect: { status: 200, body-contains: smoke }
  - name: delete it
    method: DELETE
    path: "{{ location }}"
    headers: { Authorization: "Bearer {{ env.API_TOKEN }}" }
    expect: { status: 204 }
  - name: it is gone
    path: /campaigns/{{ campaign_id }}
    headers: { Authorization: "Bearer {{ env.API_TOKEN }}" }
    expect: { status: 404 }
`,
    );
    const result = await smoke(
      { 'base-url': url, 'checks-file': file, 'junit-file': 'smoke.xml' },
      { API_TOKEN: TOKEN },
    );
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
    assert.equal(result.outputs.passed, '4');
    assert.equal(result.outputs.failed, '0');
    const r = report(result);
    assert.deepEqual(
      r.checks.map((c) => [c.name, c.outcome, c.status]),
      [
        ['create campaign', 'passed', 201],
        ['read it back', 'passed', 200],
        ['delete it', 'passed', 204],
        ['it is gone', 'passed', 404],
      ],
    );
    assert.equal(r.checks[1]?.url, `${url}/campaigns/c1`);
    const junit = readFileSync(join(workspace, 'smoke.xml'), 'utf8');
    assert.match(junit, /<testsuite name="smoke-test" tests="4" failures="0"/);
    assert.ok(result.masks.includes(TOKEN), 'the token used in a header was not masked');
  });
});

test('each expectation type fails with expected vs actual and a masked excerpt', async () => {
  await withService({}, async (url) => {
    const file = checksFile(
      'failing.yml',
      `checks:
  - { name: status, path: /status/503, expect: { status: [200, 201] } }
  - { name: status class, path: /status/404, expect: { status: 2xx } }
  - { name: header equals, path: /html, expect: { headers: { content-type: application/json } } }
  - { name: header regex, path: /html, expect: { headers: { content-type: "/json/" } } }
  - { name: body, path: /html, expect: { body-contains: goodbye } }
  - { name: json value, path: /healthz, expect: { json: { $.status: down } } }
  - { name: json regex, path: /healthz, expect: { json: { $.status: "/^fail/" } } }
  - { name: json type, path: /healthz, expect: { json: { /status: { type: number } } } }
  - { name: json missing, path: /healthz, expect: { json: { $.version: { exists: true } } } }
  - { name: json not json, path: /html, expect: { json: { $.a: 1 } } }
  - { name: latency, path: /slow?ms=400, expect: { max-latency: 100ms } }
  - { name: capture, path: /healthz, capture: { id: $.id } }
  - { name: echo, path: /echo, expect: { status: 418 } }
  - { name: refused, url: "http://127.0.0.1:9/x" }
`,
    );
    const result = await smoke({ 'base-url': url, 'checks-file': file, headers: `X-Api-Key: ${TOKEN}` });
    assert.equal(result.exitCode, 1);
    assert.equal(result.outputs.failed, '14');
    assert.equal(result.outputs.passed, '0');
    const text = errors(result).join('\n');
    const expected = [
      /status:.*status: expected 200 or 201, got 503/,
      /status class:.*status: expected 2xx, got 404/,
      /header equals:.*header content-type: expected "application\/json", got "text\/html"/,
      /header regex:.*header content-type: expected to match \/json\/, got "text\/html"/,
      /body:.*body-contains: expected body to contain "goodbye", got not found/,
      /json value:.*json \$\.status: expected "down", got "ok"/,
      /json regex:.*json \$\.status: expected to match \/\^fail\/, got "ok"/,
      /json type:.*json \/status: expected a value of type number, got "ok" \(string\)/,
      /json missing:.*json \$\.version: expected present, got \(missing\)/,
      /json not json:.*json \$\.a: expected 1, got body is not JSON \(text\/html\)/,
      /latency:.*max-latency: expected <= 100ms, got \d+ms/,
      /capture:.*capture id: expected a value at \$\.id, got \(missing\)/,
      /refused:.*connection-refused/,
    ];
    for (const pattern of expected) assert.match(text, pattern);
    // The response excerpt is in the annotation, with the header secret masked.
    assert.match(text, /echo:.*Response: .*"x-api-key":"\*\*\*"/s);
    const visible = [result.stdout, result.summary, JSON.stringify(result.annotations)].join('\n');
    assert.ok(!visible.includes(TOKEN), 'secret header value leaked');
    assert.ok(result.masks.includes(TOKEN), 'the headers input was not masked');
    assert.ok(!readFileSync(result.outputs.report as string, 'utf8').includes(TOKEN), 'secret leaked into the report');
    assert.match(result.summary, /\| json value \| ❌ 200 \| .* \| json \$\.status: expected "down", got "ok" \|/);
  });
});

test('retries give a failing check more attempts; fail-fast skips the rest and the load phase', async () => {
  await withService({}, async (url) => {
    const retried = await smoke({
      'base-url': url,
      retries: '2',
      'wait-interval': '100ms',
      checks: '- { name: flaky, path: "/flaky?fails=2" }\n',
    });
    assert.equal(retried.exitCode, 0, retried.stdout);
    assert.equal(report(retried).checks[0]?.attempts, 3);

    const failFast = await smoke({
      'base-url': url,
      'fail-fast': 'true',
      checks:
        'checks:\n  - { name: broken, path: /status/500 }\n  - { name: never run, path: /healthz }\nload: { rate: 10/s, duration: 5s, path: /load }\n',
    });
    assert.equal(failFast.exitCode, 1);
    const r = report(failFast);
    assert.deepEqual(
      r.checks.map((c) => c.outcome),
      ['failed', 'skipped'],
    );
    assert.equal(r.load, undefined);
    assert.equal(failFast.outputs.failed, '1');
  });
});

test('insecure-tls accepts a self-signed certificate that is otherwise rejected', async () => {
  const tls = await startTlsService();
  try {
    const checks = '- { name: secure, path: /, expect: { json: { $.secure: true } } }\n';
    const strict = await smoke({ 'base-url': tls.url, checks });
    assert.equal(strict.exitCode, 1);
    assert.match(errors(strict).join('\n'), /secure:.*tls/);
    const insecure = await smoke({ 'base-url': tls.url, checks, 'insecure-tls': 'true' });
    assert.equal(insecure.exitCode, 0, insecure.stdout);
  } finally {
    await tls.close();
  }
});

test('cancelling the step stops the load phase and still writes the report', async () => {
  await withService({}, async (url) => {
    const result = await runActionBundle('smoke-test', {
      with: { 'base-url': url, 'load-rate': '20/s', 'load-duration': '60s', 'load-path': '/load' },
      env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace },
      cwd: workspace,
      cancelAfterMs: 2500,
      timeoutMs: 30_000,
    });
    assert.notEqual(result.exitCode, 0);
    const load = report(result).load;
    assert.equal(load?.aborted, true);
    assert.equal(load?.abortReason, 'cancelled');
    assert.ok(load.durationMs < 20_000, `ran ${load.durationMs}ms`);
  });
});

test('a 2 s stall in the middle of an open-model load phase shows in p99 instead of hiding', async () => {
  await withService({ stall: { afterMs: 2000, forMs: 2000 } }, async (url) => {
    const result = await smoke({
      'base-url': url,
      checks: 'load:\n  rate: 100/s\n  duration: 6s\n  path: /load\n  thresholds: [ "p(99)<1s", "error_rate<0.01" ]\n',
    });
    assert.equal(result.exitCode, 1, result.stdout);
    const p99 = Number(result.outputs['p99-ms']);
    assert.ok(p99 >= 2000, `p99 ${p99}ms hides the stall`);
    const load = report(result).load;
    assert.ok(load);
    assert.equal(load.dropped, 0);
    assert.equal(load.errors, 0);
    assert.ok(load.sent >= 590 && load.sent <= 600, `sent ${load.sent}`);
    assert.deepEqual(
      load.thresholds.map((t) => [t.threshold, t.passed]),
      [
        ['p(99)<1s', false],
        ['error_rate<0.01', true],
      ],
    );
    assert.match(result.summary, /```mermaid\nxychart-beta/);
    assert.match(result.summary, /\| `p\(99\)<1s` \| ❌ fail \|/);
    assert.match(errors(result).join('\n'), /p\(99\)<1s breached/);
  });
});

test('a 2 s freeze of the whole service process is counted for every request scheduled during it', async () => {
  await withService({ freeze: { afterMs: 2000, forMs: 2000 } }, async (url) => {
    const result = await smoke({ 'base-url': url, 'load-rate': '100/s', 'load-duration': '6s', 'load-path': '/load' });
    assert.equal(result.exitCode, 0, result.stdout);
    const load = report(result).load;
    assert.ok(load);
    // About a third of the requests were due during the freeze, waiting from 2 s down to 0: a
    // closed-loop tester would have sent only the few already in flight and reported a small p99.
    assert.ok(load.latency.max >= 2000, `max ${load.latency.max}ms`);
    assert.ok(load.latency.p99 >= 1800, `p99 ${load.latency.p99}ms hides the freeze`);
    assert.ok(load.latency.p90 >= 1000, `p90 ${load.latency.p90}ms hides the freeze`);
    const worst = Math.max(...load.timeline.map((p) => p.max));
    assert.ok(worst >= 2000, 'the timeline does not show the freeze');
  });
});

test('abort-on-fail stops the load phase early when a threshold is breached', async () => {
  await withService({ failLoadAfterMs: 500 }, async (url) => {
    const file = checksFile(
      'abort.yml',
      'load:\n  rate: 50/s\n  duration: 30s\n  path: /load\n  thresholds: [ error_rate<0.01 ]\n  abort-on-fail: true\n',
    );
    const result = await smoke({ 'base-url': url, 'checks-file': file });
    assert.equal(result.exitCode, 1);
    const load = report(result).load;
    assert.ok(load?.aborted, 'the load phase was not aborted');
    assert.ok(load.durationMs < 10_000, `ran ${load.durationMs}ms of 30 s`);
    assert.match(load.abortReason ?? '', /threshold error_rate<0\.01 breached/);
    assert.ok(Number(result.outputs['error-rate']) > 0.01);
    assert.match(errors(result).join('\n'), /load phase stopped early/);
  });
});

test('a closed-model load phase from load-* inputs reports throughput', async () => {
  await withService({}, async (url) => {
    const result = await smoke({
      'base-url': url,
      'load-connections': '4',
      'load-duration': '2s',
      'load-path': '/load',
      'load-thresholds': 'error_rate<0.01\nrps>=10',
    });
    assert.equal(result.exitCode, 0, result.stdout);
    assert.ok(Number(result.outputs.rps) >= 10);
    const load = report(result).load;
    assert.equal(load?.model, 'closed');
    assert.equal(load?.connections, 4);
    assert.equal(load?.statusCounts['200'], load?.completed);
  });
});

test('a bad checks file is rejected with the line and the field named', async () => {
  const cases: [string, RegExp][] = [
    [
      'checks:\n  - name: ok\n    path: /healthz\n  - name: bad\n    path: /healthz\n    expect: { status: abc }\n',
      /checks-file bad\.yml': line 6: checks\[1\]\.expect\.status: 'abc' is not a status/,
    ],
    [
      'checks:\n  - name: typo\n    path: /x\n    expcet: { status: 200 }\n',
      /line 4: checks\[0\]\.expcet: unknown field 'expcet'/,
    ],
    [
      'load:\n  rate: 10/s\n  duration: 1s\n  path: /\n  thresholds:\n    - p95<300ms\n',
      /line 6: load\.thresholds\[0\]: 'p95<300ms': unknown metric 'p95'/,
    ],
    [
      'checks:\n  - name: x\n    path: /a\n      bad: indent\n',
      /checks-file bad\.yml': line 3, column \d+: Nested mappings/,
    ],
  ];
  for (const [text, pattern] of cases) {
    const file = checksFile('bad.yml', text);
    const result = await smoke({ 'base-url': 'http://127.0.0.1:9', 'checks-file': file });
    assert.equal(result.exitCode, 1);
    assert.match(errors(result).join('\n'), pattern);
  }
});

test('a load phase judged by latency alone also gets an implicit error_rate<0.01, shown in the summary', async () => {
  await withService({ failLoadAfterMs: 0 }, async (url) => {
    const result = await smoke({
      'base-url': url,
      checks: 'load:\n  rate: 50/s\n  duration: 1s\n  path: /load\n  thresholds: [ "p(99)<5s" ]\n',
    });
    assert.equal(result.exitCode, 1, result.stdout);
    const load = report(result).load;
    assert.ok(load);
    assert.deepEqual(
      load.thresholds.map((t) => [t.threshold, t.passed, t.implicit ?? false]),
      [
        ['p(99)<5s', true, false],
        ['error_rate<0.01', false, true],
      ],
    );
    assert.match(
      result.summary,
      /\| `error_rate<0\.01` \(implicit: no threshold names the error rate\) \| ❌ fail \| 1 \|/,
    );
    assert.match(errors(result).join('\n'), /error_rate<0\.01 breached: actual 1/);
  });
});

test('thresholds that name the error rate replace the implicit one; nothing to judge is an input error', async () => {
  await withService({ failLoadAfterMs: 0 }, async (url) => {
    const result = await smoke({
      'base-url': url,
      'load-rate': '50/s',
      'load-duration': '1s',
      'load-path': '/load',
      'load-thresholds': 'error_rate<=1',
    });
    assert.equal(result.exitCode, 0, result.stdout);
    assert.deepEqual(
      report(result).load?.thresholds.map((t) => t.threshold),
      ['error_rate<=1'],
    );
    // A wait alone judges nothing: not "passed: 0 checks".
    const nothing = await smoke({ 'base-url': url, 'wait-for': '/healthz' });
    assert.equal(nothing.exitCode, 1);
    assert.match(errors(nothing).join('\n'), /Input 'checks': nothing to judge: no checks and no load phase/);
    assert.equal(nothing.outputs.report, undefined);
  });
});

test('requests a hung service never answered are recorded at their own age when the step is cancelled', async () => {
  // Accepts every request and never answers.
  const held: ServerResponse[] = [];
  const hung = createServer((_req, res) => held.push(res));
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
  try {
    const result = await runActionBundle('smoke-test', {
      with: { 'base-url': url, 'load-rate': '40/s', 'load-duration': '60s', 'load-path': '/load' },
      env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace },
      cwd: workspace,
      cancelAfterMs: 3000,
      timeoutMs: 30_000,
    });
    assert.notEqual(result.exitCode, 0);
    const load = report(result).load;
    assert.ok(load);
    assert.equal(load.abortReason, 'cancelled');
    assert.equal(load.completed, 0);
    assert.equal(load.errorKinds.unfinished, load.sent);
    assert.ok(load.sent >= 40, `sent ${load.sent}`);
    const l = load.latency;
    // The first request was due at the start and never answered: its age is the whole phase.
    assert.ok(l.max >= load.durationMs - 50, `max ${l.max}ms for a phase of ${load.durationMs}ms`);
    assert.ok(l.p99 <= l.max && l.p95 <= l.p99 && l.p50 <= l.p95, JSON.stringify(l));
    // Arrivals were evenly spread over the phase, so the ages are too: they span most of it (a
    // loaded machine may lag at the cancel), and the median lies halfway from the youngest.
    const spread = l.max - l.min;
    assert.ok(spread >= load.durationMs * 0.75, `ages span ${spread}ms of a ${load.durationMs}ms phase`);
    assert.ok(Math.abs(l.p50 - l.min - spread / 2) <= spread * 0.15, JSON.stringify(l));
  } finally {
    for (const res of held) res.destroy();
    hung.closeAllConnections();
    await new Promise<void>((resolve) => hung.close(() => resolve()));
  }
});
