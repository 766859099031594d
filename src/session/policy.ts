// Which run should produce a requested segment: a cost model, pure so it can be read and tested
// alone. Waiting for a running run costs the time it needs to reach the segment at its measured
// speed; starting a run there costs this machine's measured cold start. The cheaper one wins.
import type { Timeline } from '../media/timeline.js';

export interface RunView {
  id: string;
  startIndex: number;
  /** One past the last index the run will produce. */
  endIndex: number;
  /** Highest index every rendition has produced; startIndex - 1 before the first. */
  producedIndex: number;
  /** Encoder position in content seconds. */
  positionSeconds: number;
  /** Measured × realtime, or undefined before the run's first segment. */
  speed: number | undefined;
  /** Seconds since the run was started. */
  ageSeconds: number;
}

/**
 * `cost` is Seekwell's model. The other two exist to measure it against what servers commonly do:
 * restart on every jump (a fixed rule), or never restart and let the running encoder catch up.
 */
export const SEEK_POLICIES = ['cost', 'always-restart', 'never-restart'] as const;
export type SeekPolicy = (typeof SEEK_POLICIES)[number];

/** Where segments start and end: the title's timeline. */
export type SegmentTimes = Pick<Timeline, 'startOf' | 'endOf'>;

export interface PolicyInput {
  /** Content index (0-based) of the requested segment, which is not on disk. */
  index: number;
  timeline: SegmentTimes;
  /** The runs of this title that are alive. */
  runs: RunView[];
  /** Expected seconds from starting a run to its first segment (measured on this machine). */
  coldStartSeconds: number;
  /** × realtime to assume for a run that has not measured its own speed yet. */
  typicalSpeed: number;
  /** Default `cost`. */
  policy?: SeekPolicy;
}

export type RestartReason = 'no-run' | 'behind-every-run' | 'past-run-end' | 'cheaper-than-waiting';

export type RunDecision =
  | { action: 'wait'; runId: string; expectedSeconds: number }
  | { action: 'start'; index: number; reason: RestartReason; expectedSeconds: number };

/** Seconds until `run` has produced segment `index`, at its measured (or the typical) speed. */
export function expectedWaitSeconds(run: RunView, index: number, input: Pick<PolicyInput, 'timeline' | 'coldStartSeconds' | 'typicalSpeed'>): number {
  const speed = run.speed ?? input.typicalSpeed;
  const { timeline } = input;
  if (run.producedIndex < run.startIndex) {
    const coldLeft = Math.max(0, input.coldStartSeconds - run.ageSeconds);
    return coldLeft + (timeline.startOf(index) - timeline.startOf(run.startIndex)) / speed;
  }
  // A segment is complete once the encoder is past its end (the next key frame closes it).
  const remaining = timeline.endOf(index) - run.positionSeconds;
  return Math.max(0, remaining) / speed;
}

/**
 * Waiting wins ties within this margin: a restart also throws away the work in flight and the
 * segments the running run would have made next.
 */
export const RESTART_MARGIN_SECONDS = 0.5;

/** True when the run's encoder is inside segment `index` (or the run is about to begin there). */
function isEncoding(run: RunView, index: number, timeline: SegmentTimes): boolean {
  if (run.producedIndex < run.startIndex) return index === run.startIndex;
  return index === run.producedIndex + 1 && run.positionSeconds >= timeline.startOf(index);
}

export function decideRun(input: PolicyInput): RunDecision {
  const { index, runs } = input;
  // A run past the segment made it already: it is not on disk any more (evicted, or its file
  // vanished), and waiting on that run would never end (the storm test found this).
  const passed = (r: RunView): boolean => r.producedIndex >= index;
  const covering = runs.filter((r) => r.startIndex <= index && index < r.endIndex && !passed(r));
  if (covering.length === 0) {
    const reason: RestartReason = runs.length === 0 ? 'no-run'
      : runs.every((r) => index < r.startIndex || passed(r)) ? 'behind-every-run'
      : runs.some((r) => index >= r.endIndex && index - r.endIndex < 2) ? 'past-run-end'
      : 'cheaper-than-waiting';
    return { action: 'start', index, reason, expectedSeconds: input.coldStartSeconds };
  }
  const best = covering
    .map((run) => ({ run, seconds: expectedWaitSeconds(run, index, input), encoding: isEncoding(run, index, input.timeline) }))
    .reduce((a, b) => (b.seconds < a.seconds ? b : a));
  // A run already encoding the segment always wins: a new run would have to start up and then
  // encode that same segment. (Speed estimates are noisy; this keeps the next-segment case stable.)
  const policy = input.policy ?? 'cost';
  const wait = best.encoding || policy === 'never-restart'
    || (policy === 'cost' && best.seconds <= input.coldStartSeconds + RESTART_MARGIN_SECONDS);
  if (wait) {
    return { action: 'wait', runId: best.run.id, expectedSeconds: best.seconds };
  }
  return { action: 'start', index, reason: 'cheaper-than-waiting', expectedSeconds: input.coldStartSeconds };
}
