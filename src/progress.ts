// Progress of long work a person waits for (the demo clip on first start, a TS remux): one line
// rewritten in place on a terminal, log records every tenth of the way otherwise.
import type { Logger } from './log.js';

export interface Progress {
  /** `fraction` of the work done, 0 to 1. */
  update(fraction: number): void;
  /** The work ended (`failed`: not done). */
  end(failed?: boolean): void;
}

/** Starts reporting one piece of work, named for a person ("making the demo clip"). */
export type ProgressReporter = (task: string, fields?: Record<string, unknown>) => Progress;

/** Reports nothing: for tests and embedding. */
export const silentProgress: ProgressReporter = () => ({ update: () => {}, end: () => {} });

/**
 * On a terminal (`terminal` given: stderr when it is a TTY), rewrites one line with the percentage;
 * otherwise logs the start, every 10 %, and the end at info.
 */
export function createProgress(log: Logger, terminal?: { write(text: string): void }, now: () => number = Date.now): ProgressReporter {
  return (task, fields = {}) => {
    const started = now();
    let shown = -1;
    let ended = false;
    const seconds = (): string => ((now() - started) / 1000).toFixed(1);
    if (terminal) terminal.write(`seekwell: ${task}…`);
    else log.info(`${task}: started`, fields);
    return {
      update(fraction) {
        if (ended) return;
        const percent = Math.floor(Math.min(1, Math.max(0, fraction)) * 100);
        if (terminal) {
          if (percent !== shown) terminal.write(`\rseekwell: ${task}… ${percent}%`);
          shown = percent;
        } else if (Math.floor(percent / 10) > Math.floor(shown / 10)) {
          shown = percent;
          if (percent < 100) log.info(`${task}: ${percent}%`, { ...fields, percent });
        }
      },
      end(failed = false) {
        if (ended) return;
        ended = true;
        if (terminal) terminal.write(`\rseekwell: ${task}… ${failed ? 'failed' : `done in ${seconds()} s`}\x1b[K\n`);
        else if (failed) log.warn(`${task}: failed`, { ...fields, seconds: Number(seconds()) });
        else log.info(`${task}: done`, { ...fields, percent: 100, seconds: Number(seconds()) });
      },
    };
  };
}
