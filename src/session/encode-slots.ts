// How many runs may encode video at once, over every title (MAX_VIDEO_ENCODES). A run past the
// limit first takes the slot of a run no request waits on, paused ones first (their viewers have
// a full buffer, and a returning request starts a run where it asks); only when every slot is
// waited on is the new run refused, with OVERLOADED, instead of every viewer stalling.
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

/** A run holding a slot, as the slots see it. */
export interface SlotHolder {
  readonly id: string;
  /** A request waits on a segment (or the init) this run makes. */
  readonly waited: boolean;
  readonly paused: boolean;
  /** Stops the run to free its slot. */
  stop(reason: string): void;
}

export class EncodeSlots {
  readonly max: number;
  readonly #holders: () => SlotHolder[];
  readonly #metrics: Metrics;
  readonly #log: Logger;

  constructor(max: number, holders: () => SlotHolder[], metrics: Metrics, log: Logger) {
    this.max = max;
    this.#holders = holders;
    this.#metrics = metrics;
    this.#log = log;
  }

  /**
   * Makes room for one more video encode, stopping a run nobody waits on if need be, or throws
   * OVERLOADED. `leaving`: a run the caller is about to stop anyway (the viewer's previous run).
   */
  claim(leaving?: string): void {
    const holders = this.#holders().filter((h) => h.id !== leaving);
    if (holders.length < this.max) return;
    const spare = holders.filter((h) => !h.waited).sort((a, b) => Number(b.paused) - Number(a.paused));
    const freed = spare.slice(0, holders.length - this.max + 1);
    if (holders.length - freed.length >= this.max) {
      this.#metrics.refused.inc({ limit: 'video_encodes' });
      throw new SeekwellError('OVERLOADED', `all ${this.max} video encodes (MAX_VIDEO_ENCODES) are serving waiting viewers; retry shortly`);
    }
    for (const holder of freed) {
      this.#log.info('run stopped for a waiting viewer', { run: holder.id, paused: holder.paused });
      holder.stop(`its slot went to a waiting viewer (MAX_VIDEO_ENCODES ${this.max})`);
    }
  }
}
