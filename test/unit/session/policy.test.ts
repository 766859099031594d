import { describe, it, expect } from 'vitest';
import { Timeline } from '../../../src/media/timeline.js';
import { decideRun, expectedWaitSeconds, type PolicyInput, type RunView, type SegmentTimes } from '../../../src/session/policy.js';

// A run over [10, 400) that has produced up to index 14 and encodes at 4x realtime, D = 4 s.
const warm: RunView = { id: 'warm', startIndex: 10, endIndex: 400, producedIndex: 14, positionSeconds: 61, speed: 4, ageSeconds: 5 };

// A title of 1000 segments of 4 s.
const timeline = Timeline.uniform(4000, 4, 1000);

function input(index: number, runs: RunView[], coldStartSeconds = 1.5, times: SegmentTimes = timeline): PolicyInput {
  return { index, timeline: times, runs, coldStartSeconds, typicalSpeed: 3 };
}

describe('expectedWaitSeconds', () => {
  it('counts the content left to encode at the run\'s measured speed', () => {
    // Segment 16 ends at 68 s; the encoder is at 61 s: 7 s of content at 4x.
    expect(expectedWaitSeconds(warm, 16, input(16, [warm]))).toBeCloseTo(1.75);
  });

  it('adds what is left of the cold start for a run that has produced nothing yet', () => {
    const cold: RunView = { id: 'cold', startIndex: 10, endIndex: 400, producedIndex: 9, positionSeconds: 40, speed: undefined, ageSeconds: 0.5 };
    // 1 s of cold start left, then 2 segments of 4 s at the typical 3x.
    expect(expectedWaitSeconds(cold, 12, input(12, [cold]))).toBeCloseTo(1 + 8 / 3);
  });

  it('never goes below zero for a segment the encoder has already passed', () => {
    expect(expectedWaitSeconds(warm, 14, input(14, [warm]))).toBe(0);
  });

  it('reads where segments end from the timeline it is given, not from a fixed length', () => {
    // A longer segment 16, [64, 75): 14 s of content left at 4x, where a 4 s one would leave 7 s.
    const uneven: SegmentTimes = { startOf: (i) => i * 4, endOf: (i) => (i === 16 ? 75 : (i + 1) * 4) };
    expect(expectedWaitSeconds(warm, 16, input(16, [warm], 1.5, uneven))).toBeCloseTo(3.5);
  });
});

describe('decideRun', () => {
  it('starts a run where nothing runs', () => {
    expect(decideRun(input(7, []))).toMatchObject({ action: 'start', index: 7, reason: 'no-run' });
  });

  it('starts a run for a segment behind every run', () => {
    expect(decideRun(input(3, [warm]))).toMatchObject({ action: 'start', index: 3, reason: 'behind-every-run' });
  });

  it('starts a run for a segment a run already made and the store no longer has (evicted), instead of waiting on it forever', () => {
    expect(decideRun(input(12, [warm]))).toMatchObject({ action: 'start', index: 12, reason: 'behind-every-run' });
    expect(decideRun(input(14, [warm]))).toMatchObject({ action: 'start', index: 14 });
    // The segment after the produced one is still the running run's to make.
    expect(decideRun(input(15, [warm]))).toMatchObject({ action: 'wait', runId: 'warm' });
  });

  it('starts a run just past the end of a limited run', () => {
    expect(decideRun(input(400, [warm]))).toMatchObject({ action: 'start', index: 400, reason: 'past-run-end' });
  });

  it('waits when the running run gets there sooner than a cold start', () => {
    expect(decideRun(input(15, [warm]))).toMatchObject({ action: 'wait', runId: 'warm' });
  });

  it('restarts when the running run would take longer than a cold start', () => {
    // Segment 17 ends at 72 s: 11 s of content at 4x = 2.75 s > 1.5 s.
    expect(decideRun(input(17, [warm]))).toMatchObject({ action: 'start', index: 17, reason: 'cheaper-than-waiting' });
  });

  it('waits for the same segment when cold starts are slow on this machine', () => {
    expect(decideRun(input(17, [warm], 3))).toMatchObject({ action: 'wait', runId: 'warm' });
  });

  it('waits on a run that was just started for the same place (a burst of requests)', () => {
    const fresh: RunView = { id: 'fresh', startIndex: 59, endIndex: 400, producedIndex: 58, positionSeconds: 236, speed: undefined, ageSeconds: 0 };
    expect(decideRun(input(59, [warm, fresh]))).toMatchObject({ action: 'wait', runId: 'fresh' });
  });

  it('picks the run that gets there first', () => {
    const behind: RunView = { ...warm, id: 'behind', producedIndex: 12, positionSeconds: 52 };
    expect(decideRun(input(15, [behind, warm]))).toMatchObject({ action: 'wait', runId: 'warm' });
  });
});

describe('decideRun on a slow or busy machine', () => {
  it('waits for the segment the encoder is inside, however slow it measures', () => {
    const crawling: RunView = { ...warm, speed: 0.5 };
    // Index 15 starts at 60 s; the encoder is at 61 s: it is making it.
    expect(decideRun(input(15, [crawling]))).toMatchObject({ action: 'wait', runId: 'warm' });
  });

  it('waits for the first segment of a run that was just started there', () => {
    const fresh: RunView = { id: 'fresh', startIndex: 59, endIndex: 400, producedIndex: 58, positionSeconds: 236, speed: undefined, ageSeconds: 0 };
    expect(decideRun({ ...input(59, [fresh]), coldStartSeconds: 0.1, typicalSpeed: 0.1 })).toMatchObject({ action: 'wait', runId: 'fresh' });
  });
});

describe('decideRun under the comparison policies', () => {
  it('waits for any covering run, however far, when never restarting', () => {
    expect(decideRun({ ...input(300, [warm]), policy: 'never-restart' })).toMatchObject({ action: 'wait', runId: 'warm' });
  });

  it('still starts a run behind every run when never restarting', () => {
    expect(decideRun({ ...input(2, [warm]), policy: 'never-restart' })).toMatchObject({ action: 'start', index: 2 });
  });

  it('restarts for a near jump the cost model would wait for when always restarting', () => {
    expect(decideRun({ ...input(16, [warm]), policy: 'always-restart' })).toMatchObject({ action: 'start', index: 16 });
  });

  it('still waits for the segment being encoded when always restarting', () => {
    expect(decideRun({ ...input(15, [warm]), policy: 'always-restart' })).toMatchObject({ action: 'wait' });
  });
});
