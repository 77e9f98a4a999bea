// The shape every benchmark reports: a figure as a ratio against a baseline measured in the same run.
export interface BenchFigure {
  /** What is measured, e.g. "notify cold start". */
  name: string;
  /** The measured ratio (ours ÷ baseline, or achieved ÷ requested). */
  ratio: number;
  /** Human-readable target, e.g. "<= 3.5x". */
  target: string;
  /** Whether the target is met. */
  ok: boolean;
  /** Why the figure could not be measured on this machine: printed as SKIP, neither met nor missed. */
  skipped?: string;
  /** Raw numbers behind the ratio, for the reader. */
  detail: string;
}
