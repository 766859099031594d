// Which run should produce a requested segment. Pure, so the rules can be read and tested alone;
// the next policy (buffer-ahead window, pause, cost model) replaces this function, not its callers.

export interface RunView {
  startIndex: number;
  /** One past the last index the run will produce. */
  endIndex: number;
  /** Highest index every rendition of the run has produced; startIndex - 1 before the first. */
  producedIndex: number;
}

export type RunDecision = { action: 'wait' } | { action: 'start'; index: number; reason: RestartReason };

export type RestartReason = 'no-run' | 'behind-run-start' | 'past-run-end' | 'far-ahead';

export interface PolicyOptions {
  /** How many segments past the run's position a request may be and still wait for the run. */
  maxLeadSegments: number;
}

/** Decides for a segment not on disk: wait for the running run, or start one at `index`. */
export function decideRun(index: number, run: RunView | undefined, options: PolicyOptions): RunDecision {
  if (!run) return { action: 'start', index, reason: 'no-run' };
  if (index < run.startIndex) return { action: 'start', index, reason: 'behind-run-start' };
  if (index >= run.endIndex) return { action: 'start', index, reason: 'past-run-end' };
  if (index > run.producedIndex + options.maxLeadSegments) return { action: 'start', index, reason: 'far-ahead' };
  return { action: 'wait' };
}
