// The blue-green result as Markdown (the job summary) and text (the CLI): the headline of each
// outcome, facts, phases with their gantt, a failed container's diagnosis, the plan, the history,
// table cells that stay cells, and the phase line both front ends log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlueGreenResult, HistoryEntry } from './model.ts';
import { phaseLine, renderHistoryText, renderMarkdown, renderText } from './render.ts';

const T0 = 1_765_100_000_000;

function result(over: Partial<BlueGreenResult> = {}): BlueGreenResult {
  return {
    action: 'deploy',
    result: 'promoted',
    app: 'bid',
    namespace: 'ads',
    activeColor: 'green',
    previousColor: 'blue',
    revision: 7,
    image: 'registry.example.com/bid:1.4.2',
    services: ['bid', 'bid-internal'],
    readySeconds: 12.34,
    switchSeconds: 0.42,
    switchLatencyMs: 180.4,
    phases: [
      { name: 'lock', startedAt: T0, endedAt: T0 + 50, outcome: 'ok' },
      { name: 'apply', startedAt: T0 + 50, endedAt: T0 + 1_250, outcome: 'ok', detail: 'bid-green | 3 replicas' },
      { name: 'switch', startedAt: T0 + 1_250, endedAt: T0 + 1_700, outcome: 'ok' },
    ],
    pods: [
      { name: 'bid-green-1', ready: true, restarts: 0, phase: 'Running' },
      { name: 'bid-green-2', ready: false, restarts: 2, phase: 'Running', reason: 'CrashLoopBackOff' },
    ],
    endpoints: [{ service: 'bid', ready: 3, readyNew: 3, readyOther: [] }],
    checks: [],
    analyses: [],
    failed: false,
    ...over,
  };
}

const history: HistoryEntry[] = [
  {
    revision: 7,
    image: 'bid:1.4.2',
    commit: '0123456789abcdef',
    time: '2026-12-07T10:00:00Z',
    outcome: 'promoted',
    color: 'green',
    hash: 'h7',
    runUrl: 'https://ci.example.com/7',
  },
  {
    revision: 6,
    image: 'bid:1.4.1',
    time: '2026-12-06T10:00:00Z',
    outcome: 'rolled-back',
    color: 'blue',
    hash: 'h6',
    rollbackOf: 4,
  },
];

test('phaseLine: a start, an end with its time and detail, a failure, a target', () => {
  assert.equal(phaseLine({ name: 'apply', startedAt: T0 }), '▶ apply');
  assert.equal(
    phaseLine({ name: 'apply', startedAt: T0, endedAt: T0 + 1234, outcome: 'ok', detail: '3 replicas' }),
    '✔ apply (1.23 s): 3 replicas',
  );
  assert.equal(
    phaseLine({ name: 'switch', startedAt: T0, endedAt: T0 + 10, outcome: 'failed' }, 'eu-west'),
    '✖ eu-west switch (0.01 s)',
  );
});

test('the headline says what happened, for each outcome', () => {
  const first = (r: BlueGreenResult): string => renderMarkdown(r).split('\n')[2] ?? '';
  assert.equal(first(result()), '✅ bid in ads: green is live (revision 7, registry.example.com/bid:1.4.2)');
  assert.equal(
    first(result({ result: 'rolled-back', activeColor: 'blue', failed: true })),
    '❌ bid in ads: rolled back to blue',
  );
  assert.equal(
    first(result({ result: 'preview-ready', previewColor: 'green' })),
    '✅ bid in ads: green is ready as a preview; promote to switch traffic',
  );
  assert.equal(
    first(result({ result: 'unchanged' })),
    'ℹ️ bid in ads: registry.example.com/bid:1.4.2 is already live on green; nothing changed',
  );
  assert.equal(first(result({ result: 'planned' })), '✅ bid in ads: dry run, nothing changed');
  assert.equal(
    first(result({ result: 'failed', activeColor: undefined, failed: true })),
    '❌ bid in ads: deploy failed; traffic stays on nothing (first deploy)',
  );
  assert.equal(
    renderText(result()).split('\n')[0],
    'bid in ads: green is live (revision 7, registry.example.com/bid:1.4.2)',
    'text drops the icon',
  );
});

test('the summary: facts, phases with a gantt, pods, endpoints, cells kept on one line', () => {
  const md = renderMarkdown(result());
  const lines = md.split('\n');
  assert.equal(lines[0], '## blue-green-deploy: deploy');
  assert.ok(lines.includes('| Services | bid, bid-internal |'));
  assert.ok(lines.includes('| Ready after | 12.3 s |'));
  assert.ok(lines.includes('| Last pod ready → switch | 180 ms |'));
  assert.ok(
    lines.includes('| apply | ok | 1.20 s | bid-green \\| 3 replicas |'),
    'a pipe in a detail stays in its cell',
  );
  assert.match(
    md,
    /```mermaid\ngantt\n {2}title Phases\n {2}dateFormat x\n {2}axisFormat %M:%S\n {2}lock : 0, 50\n {2}apply : 50, 1250\n {2}switch : 1250, 1700\n```/,
  );
  assert.ok(lines.includes('| bid-green-2 | no (CrashLoopBackOff) | 2 | Running |'));
  assert.ok(lines.includes('| bid | 3 | 3 | none |'));
  assert.doesNotMatch(md, /### Releases/, 'the history is for status and rollback');
});

test('a failure: why, the container diagnosis with its log, a failed phase marked critical', () => {
  const failed = result({
    result: 'failed',
    failed: true,
    error: 'bid-green never became available:\ncontainer crashed',
    diagnosis: {
      pod: 'bid-green-2',
      container: 'bid',
      reason: 'Error',
      exitCode: 3,
      restarts: 2,
      logs: ['boot', 'no ```db```'],
    },
    phases: [{ name: 'wait-ready', startedAt: T0, endedAt: T0 + 5000, outcome: 'failed' }],
  });
  const md = renderMarkdown(failed);
  assert.match(md, /> \*\*Why it failed:\*\* bid-green never became available: container crashed\n/);
  assert.match(
    md,
    /### Why container bid of bid-green-2 failed\n\nLast termination: Error, exit code 3, 2 restarts\n\n```text\nboot\nno '''db'''\n```/,
  );
  assert.match(md, / {2}wait-ready : crit, 0, 5000/);
  const text = renderText(failed);
  assert.match(text, /\nreason: bid-green never became available:\ncontainer crashed\n/);
  assert.match(text, /\ncontainer bid of bid-green-2: Error, exit code 3, 2 restarts\n {2}\| boot\n/);
  assert.ok(text.endsWith('\n  wait-ready        failed       5.00 s  '), text);
});

test('status and rollback show the history; the plan and the text list of releases', () => {
  const status = result({ action: 'status', result: 'status', history, plan: ['apply Deployment/bid-green'] });
  const md = renderMarkdown(status);
  assert.match(md, /### Releases\n\n\| Revision \| Image \| Commit \| Outcome \| Colour \| When \| Run \|/);
  assert.match(
    md,
    /\| 7 \| bid:1\.4\.2 \| 0123456789ab \| promoted \| green \| 2026-12-07T10:00:00Z \| \[run\]\(https:\/\/ci\.example\.com\/7\) \|/,
  );
  assert.match(md, /\| 6 \| bid:1\.4\.1 \| {2}\| rolled-back \(again revision 4\) \| blue \|/);
  assert.match(md, /### Plan\n\n- apply Deployment\/bid-green\n/);
  assert.deepEqual(renderHistoryText(history), [
    '  revision  outcome      colour  image / commit / when',
    '         7  promoted     green   bid:1.4.2 0123456789ab 2026-12-07T10:00:00Z',
    '         6  rolled-back<-4  blue    bid:1.4.1 2026-12-06T10:00:00Z',
  ]);
  assert.deepEqual(renderHistoryText([]), ['  no releases stored']);
  assert.match(renderText(status), /\nreleases:\n {2}revision {2}outcome/);
});
