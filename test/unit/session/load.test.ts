import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { assessLoad, LoadMonitor, type LoadView } from '../../../src/session/load.js';

const run = (speed: number | undefined, extra: Partial<LoadView> = {}): LoadView => ({ speed, paused: false, waited: false, leadSeconds: 4, ...extra });

describe('assessLoad', () => {
  it('is normal with no run, or runs all well above real time', () => {
    expect(assessLoad([]).level).toBe('normal');
    expect(assessLoad([run(3), run(1.6)])).toEqual({ level: 'normal', slowestSpeed: 1.6 });
  });

  it('is strained when the slowest needed run has under 1.3x, overloaded under 1x', () => {
    expect(assessLoad([run(3), run(1.2)]).level).toBe('strained');
    expect(assessLoad([run(3), run(0.8)]).level).toBe('overloaded');
  });

  it('is normal, whatever the speeds, while a fifth of the CPU idles: the machine is not what holds the run back', () => {
    expect(assessLoad([run(0.5)], 0.35).level).toBe('normal');
    expect(assessLoad([run(0.5)], 0.1).level).toBe('overloaded');
  });

  it('ignores paused runs, runs not yet measured, and runs far ahead of their viewer that nobody waits on', () => {
    expect(assessLoad([run(0.5, { paused: true }), run(undefined), run(0.7, { leadSeconds: 20 })]).level).toBe('normal');
    // The same far-ahead run counts once a request waits on it.
    expect(assessLoad([run(0.7, { leadSeconds: 20, waited: true })]).level).toBe('overloaded');
  });
});

describe('LoadMonitor', () => {
  // `readAt(...times)`: one reading at each time, as the server's 1 s timer takes them.
  function monitor(): { m: LoadMonitor; set(runs: LoadView[]): void; at(ms: number): void; readAt(...times: number[]): void } {
    let runs: LoadView[] = [];
    let now = 0;
    const m = new LoadMonitor(() => runs, () => now, createLogger('silent'), () => 0);
    const readAt = (...times: number[]): void => times.forEach((t) => {
      now = t;
      m.update();
    });
    return { m, set: (r) => (runs = r), at: (ms) => (now = ms), readAt };
  }

  it('enters a higher level once readings said so for 2 s, not on one reading', () => {
    const { m, set, at } = monitor();
    set([run(0.8)]);
    at(0);
    expect(m.update()).toBe(false);
    at(1000);
    m.update();
    expect(m.level).toBe('normal');
    at(2000);
    expect(m.update()).toBe(true);
    expect(m.level).toBe('overloaded');
    expect(m.overloaded && m.strained).toBe(true);
  });

  it('goes only as far as every reading agreed: one overloaded reading among strained ones gives strained', () => {
    const { m, set, readAt } = monitor();
    set([run(1.1)]);
    readAt(0);
    set([run(0.8)]);
    readAt(1000, 2000);
    expect(m.level).toBe('strained');
  });

  it('leaves a level only after 15 s of lower readings, and starts over when one reading is high again', () => {
    const { m, set, readAt } = monitor();
    set([run(0.8)]);
    readAt(0, 1000, 2000);
    expect(m.level).toBe('overloaded');
    set([run(2)]);
    readAt(3000, 16_000);
    expect(m.level).toBe('overloaded');
    set([run(0.9)]);
    readAt(17_000);
    set([run(2)]);
    readAt(18_000, 32_000);
    expect(m.level).toBe('overloaded');
    readAt(33_000);
    expect(m.level).toBe('normal');
  });

  it('goes back to normal at once when no needed run is running (all paused ahead, or none)', () => {
    const { m, set, at, readAt } = monitor();
    set([run(0.8)]);
    readAt(0, 1000, 2000);
    expect(m.level).toBe('overloaded');
    set([run(0.8, { paused: true })]);
    at(3000);
    expect(m.update()).toBe(true);
    expect(m.level).toBe('normal');
  });
});
