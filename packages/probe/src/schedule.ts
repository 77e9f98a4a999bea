// The open model's arrival schedule: when arrival number i is due, for one constant rate or for a
// list of phases whose rate changes linearly (Artillery's `arrivalRate`/`rampTo`/`arrivalCount`/`pause`).
import type { ArrivalPhase, LoadSpec } from './types.ts';

export interface ArrivalSchedule {
  /** Arrivals in the whole schedule. */
  planned: number;
  /** Milliseconds after the start at which arrival `index` (0-based, < planned) is due. */
  at(index: number): number;
}

/** Arrivals of one phase: the integral of its rate, rounded down (a tiny slack absorbs float error). */
export function phaseArrivals(phase: ArrivalPhase): number {
  return Math.floor(((phase.fromRate + phase.toRate) / 2) * (phase.durationMs / 1000) + 1e-9);
}

/** Offset within a phase of its arrival `j`: where the cumulative rate reaches j. */
function offsetInPhase(phase: ArrivalPhase, j: number): number {
  const perMs = phase.fromRate / 1000;
  // rate(t) = from + (to - from) * t / d, so arrivals(t) = from*t + (to-from)*t^2/(2d) (t in ms, rates per ms).
  const a = (phase.toRate - phase.fromRate) / 1000 / (2 * phase.durationMs);
  if (Math.abs(a) < 1e-15) return j / perMs;
  return (-perMs + Math.sqrt(perMs * perMs + 4 * a * j)) / (2 * a);
}

/** The highest arrival rate per second anywhere in the schedule (0 for the closed model). */
export function peakRate(spec: LoadSpec): number {
  if (spec.model.kind !== 'open') return 0;
  if (!spec.phases) return spec.model.ratePerSecond;
  return Math.max(0, ...spec.phases.map((phase) => Math.max(phase.fromRate, phase.toRate)));
}

export function arrivalSchedule(spec: LoadSpec): ArrivalSchedule {
  if (spec.model.kind !== 'open') return { planned: 0, at: () => 0 };
  if (!spec.phases) {
    const intervalMs = 1000 / spec.model.ratePerSecond;
    return { planned: Math.floor((spec.durationMs * spec.model.ratePerSecond) / 1000), at: (i) => i * intervalMs };
  }
  const phases = spec.phases;
  const counts = phases.map(phaseArrivals);
  const firstIndex: number[] = [];
  const startMs: number[] = [];
  let index = 0;
  let ms = 0;
  phases.forEach((phase, p) => {
    firstIndex.push(index);
    startMs.push(ms);
    index += counts[p] as number;
    ms += phase.durationMs;
  });
  let cached = 0;
  return {
    planned: index,
    at(i) {
      // Arrivals are asked for in order, so the phase found last time is nearly always right.
      if (i < (firstIndex[cached] as number)) cached = 0;
      while (cached < phases.length - 1 && i >= (firstIndex[cached + 1] as number)) cached++;
      const phase = phases[cached] as ArrivalPhase;
      return (startMs[cached] as number) + offsetInPhase(phase, i - (firstIndex[cached] as number));
    },
  };
}
