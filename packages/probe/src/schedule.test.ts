// The open model's arrival schedule: a constant rate spaced evenly, and Artillery-style phases
// (ramps, counts, pauses) whose arrivals follow the integral of their rate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrivalSchedule, phaseArrivals } from './schedule.ts';
import { parseChecksDocument } from './spec.ts';
import type { ArrivalPhase, LoadSpec } from './types.ts';

const loadOf = async (yaml: string): Promise<LoadSpec> => {
  const load = (await parseChecksDocument(`load:\n${yaml}`, 'checks')).load;
  assert.ok(load);
  return load;
};

const withPhases = async (phases: ArrivalPhase[]): Promise<LoadSpec> => ({
  ...(await loadOf('  rate: 1/s\n  duration: 1s\n  path: /\n')),
  phases,
  durationMs: phases.reduce((sum, p) => sum + p.durationMs, 0),
});

test('a constant rate: duration × rate arrivals, evenly spaced from 0', async () => {
  const s = arrivalSchedule(await loadOf('  rate: 40/s\n  duration: 2s\n  path: /\n'));
  assert.equal(s.planned, 80);
  assert.deepEqual([s.at(0), s.at(1), s.at(79)], [0, 25, 1975]);
  assert.equal(arrivalSchedule(await loadOf('  rate: 3/s\n  duration: 500ms\n  path: /\n')).planned, 1, 'rounded down');
});

test('the closed model has no schedule', async () => {
  const s = arrivalSchedule(await loadOf('  connections: 4\n  duration: 1s\n  path: /\n'));
  assert.equal(s.planned, 0);
});

test('phaseArrivals: the integral of the rate, rounded down; a pause has none', () => {
  assert.equal(phaseArrivals({ durationMs: 10_000, fromRate: 0, toRate: 10 }), 50);
  assert.equal(phaseArrivals({ durationMs: 3_000, fromRate: 5, toRate: 5 }), 15);
  assert.equal(phaseArrivals({ durationMs: 1_000, fromRate: 0.3, toRate: 0.3 }), 0);
  assert.equal(phaseArrivals({ durationMs: 10_000, fromRate: 0.1, toRate: 0.1 }), 1, 'no float error loses one');
  assert.equal(phaseArrivals({ durationMs: 5_000, fromRate: 0, toRate: 0 }), 0);
});

test('phases: a ramp follows t²; a pause shifts what follows; a falling ramp slows down', async () => {
  const s = arrivalSchedule(
    await withPhases([
      { durationMs: 10_000, fromRate: 0, toRate: 10 },
      { durationMs: 5_000, fromRate: 0, toRate: 0, name: 'pause' },
      { durationMs: 2_000, fromRate: 2, toRate: 2 },
      { durationMs: 4_000, fromRate: 10, toRate: 0 },
    ]),
  );
  assert.equal(s.planned, 50 + 0 + 4 + 20);
  const times = Array.from({ length: s.planned }, (_, i) => s.at(i));
  assert.ok(
    times.every((t, i) => i === 0 || t > (times[i - 1] as number)),
    'strictly increasing',
  );
  // Ramp 0 -> 10/s over 10 s: arrivals(t) = t²/2, so arrival j is due at sqrt(2j) s.
  for (const j of [1, 8, 32, 49]) assert.ok(Math.abs(s.at(j) - Math.sqrt(2 * j) * 1000) < 1e-6, `arrival ${j}`);
  assert.deepEqual(times.slice(50, 54), [15_000, 15_500, 16_000, 16_500]);
  // Falling ramp 10 -> 0/s from 17 s: the gaps widen.
  const falling = times.slice(54);
  assert.equal(falling[0], 17_000);
  assert.ok((falling[19] as number) < 21_000);
  assert.ok((falling[19] as number) - (falling[18] as number) > (falling[1] as number) - (falling[0] as number));
  // Asked out of order (a shard, a retry), the answer is the same.
  assert.equal(s.at(52), 16_000);
  assert.equal(s.at(3), times[3]);
});
