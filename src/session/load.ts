// Whether the video encodes viewers depend on keep up with real time, from each run's measured
// speed and the machine's idle CPU (a run slow while the CPU idles is slow by itself, or stopped:
// more CPU would not help it, and refusing viewers would not either). Overload is a state the server is in, entered and left with hysteresis, and degrades
// service in a stated order instead of letting every viewer stall:
//   strained    the slowest needed run makes under 1.3 s of content per second: runs whose
//               viewers have a buffer (2+ segments made ahead) pause, and new video runs search
//               less (x264 subme=1, me=dia, lookahead 5: the same SPS/PPS, so inits stay
//               interchangeable);
//   overloaded  it makes under 1 s per second even so: new sessions are refused (503 OVERLOADED,
//               Retry-After); viewers already playing keep their runs.
import { cpus } from 'node:os';
import type { Logger } from '../log.js';

export type LoadLevel = 'normal' | 'strained' | 'overloaded';

/** A video encode run, as the load sees it. */
export interface LoadView {
  /** Content seconds per wall second while running; undefined before it was measured. */
  speed: number | undefined;
  paused: boolean;
  /** A request waits on a segment this run makes. */
  waited: boolean;
  /** Seconds of content made past its furthest viewer's position; undefined without a viewer. */
  leadSeconds: number | undefined;
}

/** Speed under which a needed run is not keeping up: the viewer will catch up with it. */
export const KEEP_UP_SPEED = 1;
/** Speed under which there is no margin left for one more viewer. */
export const STRAINED_SPEED = 1.3;
/** With this much of the CPU idle, the machine is not what holds a slow run back. */
export const IDLE_ENOUGH = 0.2;
/** A run this far ahead of its viewer is not at risk whatever its speed. */
const SAFE_LEAD_SECONDS = 12;
/** A higher level is entered once readings said so this long (two reports a second apart). */
const ENTER_MS = 2000;
/** A lower level is entered once readings said so this long: no flapping on a noisy machine. */
const LEAVE_MS = 15_000;

const LEVELS: readonly LoadLevel[] = ['normal', 'strained', 'overloaded'];
const RANK: Record<LoadLevel, number> = { normal: 0, strained: 1, overloaded: 2 };

/**
 * The level the runs say right now, without hysteresis. `idle`: the fraction of the CPU left idle
 * since the last reading (undefined when unknown).
 */
export function assessLoad(runs: readonly LoadView[], idle?: number): { level: LoadLevel; slowestSpeed: number | undefined } {
  const atRisk = runs.filter((r) => !r.paused && r.speed !== undefined && (r.waited || r.leadSeconds === undefined || r.leadSeconds < SAFE_LEAD_SECONDS));
  if (atRisk.length === 0) return { level: 'normal', slowestSpeed: undefined };
  const slowest = Math.min(...atRisk.map((r) => r.speed!));
  const level = idle !== undefined && idle >= IDLE_ENOUGH ? 'normal' : slowest < KEEP_UP_SPEED ? 'overloaded' : slowest < STRAINED_SPEED ? 'strained' : 'normal';
  return { level, slowestSpeed: slowest };
}

/** A clock of the CPU's idle share: each call gives the fraction idle since the previous one. */
export function cpuIdleMeter(): () => number | undefined {
  let last = cpuTimes();
  return () => {
    const now = cpuTimes();
    const total = now.total - last.total;
    const idle = now.idle - last.idle;
    last = now;
    return total > 0 ? idle / total : undefined;
  };
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { idle, total };
}

export class LoadMonitor {
  readonly #runs: () => LoadView[];
  readonly #idle: () => number | undefined;
  readonly #now: () => number;
  readonly #log: Logger;
  #level: LoadLevel = 'normal';
  /** The level readings have said since `since` (differing from the current one). */
  #pending: { level: LoadLevel; since: number } | undefined;
  #slowest: number | undefined;

  constructor(runs: () => LoadView[], now: () => number, log: Logger, idle: () => number | undefined = cpuIdleMeter()) {
    this.#runs = runs;
    this.#idle = idle;
    this.#now = now;
    this.#log = log;
  }

  get level(): LoadLevel {
    return this.#level;
  }

  /** At least strained: degrade (pause buffered viewers' runs, faster preset for new runs). */
  get strained(): boolean {
    return this.#level !== 'normal';
  }

  get overloaded(): boolean {
    return this.#level === 'overloaded';
  }

  /** Slowest at-risk run's speed at the last reading. */
  get slowestSpeed(): number | undefined {
    return this.#slowest;
  }

  /** Takes a reading; returns true when the level changed. Called about once a second. */
  update(): boolean {
    const { level, slowestSpeed } = assessLoad(this.#runs(), this.#idle());
    this.#slowest = slowestSpeed;
    const now = this.#now();
    // Nothing needed is running (all paused ahead, or no run at all): nothing is falling behind,
    // so there is room again at once.
    if (slowestSpeed === undefined && this.#level !== 'normal') {
      const from = this.#level;
      this.#level = 'normal';
      this.#pending = undefined;
      this.#log.info('load level changed', { from, to: 'normal', reason: 'no run falling behind' });
      return true;
    }
    if (level === this.#level) {
      this.#pending = undefined;
      return false;
    }
    const rising = RANK[level] > RANK[this.#level];
    const before = this.#pending;
    let pending = { level, since: now };
    if (before && RANK[before.level] > RANK[this.#level] === rising) {
      // The same way as before: the clock goes on, and the move is as far as every reading agrees.
      const agreed = rising ? Math.min(RANK[level], RANK[before.level]) : Math.max(RANK[level], RANK[before.level]);
      pending = { level: LEVELS[agreed]!, since: before.since };
    }
    this.#pending = pending;
    if (now - pending.since < (rising ? ENTER_MS : LEAVE_MS)) return false;
    const from = this.#level;
    this.#level = pending.level;
    this.#pending = undefined;
    this.#log.warn('load level changed', { from, to: this.#level, slowestSpeed });
    return true;
  }
}
