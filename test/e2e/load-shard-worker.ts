// One shard of load-shards.test.ts in its own process: the same settings, engine and result
// files as `adci smoke --shard`, plus every raw latency sample written to a file, so the test can
// build the reference histogram from the samples themselves. It reports `ready` over IPC and
// starts its load phase at the time the test sends back (a start barrier shared by all shards).
// argv: base URL, shard (i/n), load rate, load duration, shard dir, samples file.
import { writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { captureHistogram, runSmoke, smokeSettings, writeShardResult, type CapturedHistogram } from '@adci/probe';

const [baseUrl = '', shard = '', rate = '', duration = '', dir = '', samplesFile = ''] = process.argv.slice(2);
process.send?.({ ready: true });
const [message] = (await once(process, 'message')) as [{ startAt: string }];
const settings = await smokeSettings({
  baseUrl,
  checks: '',
  checksFile: '',
  readChecksFile: () => '',
  waitFor: '',
  headers: {},
  load: { rate, duration, path: '/work', thresholds: ['p(99)<2s', 'error_rate<0.01'] },
  shard,
  loadStartAt: message.startAt,
});
// [latency ms, count] pairs, in the order recorded.
const samples: number[] = [];
let histogram: CapturedHistogram | undefined;
const result = await runSmoke(settings, {
  onLoadSample: (ms, count) => samples.push(ms, count),
  onLoadHistogram: (h) => (histogram = captureHistogram(h)),
});
if (!settings.shard || !histogram) throw new Error('not a shard, or no histogram');
writeShardResult({ dir, shard: settings.shard, plan: settings.shard.plan, result, histogram });
writeFileSync(samplesFile, JSON.stringify(samples));
process.disconnect();
