import { describe, it, expect } from 'vitest';
import { decideRun, type RunView } from '../../../src/session/policy.js';

const options = { maxLeadSegments: 3 };

// A run over indexes [10, 30) that has produced up to index 14.
const run: RunView = { startIndex: 10, endIndex: 30, producedIndex: 14 };

describe('decideRun', () => {
  it('starts a run at the requested index when none is running', () => {
    expect(decideRun(7, undefined, options)).toEqual({ action: 'start', index: 7, reason: 'no-run' });
  });

  it('starts a run when the request is behind the running run', () => {
    expect(decideRun(9, run, options)).toEqual({ action: 'start', index: 9, reason: 'behind-run-start' });
  });

  it('starts a run for the index just past the running run', () => {
    expect(decideRun(30, run, options)).toEqual({ action: 'start', index: 30, reason: 'past-run-end' });
  });

  it('starts a run for an index well past the running run', () => {
    expect(decideRun(45, run, options)).toEqual({ action: 'start', index: 45, reason: 'past-run-end' });
  });

  it('starts a run when the request is further ahead than the lead allows', () => {
    expect(decideRun(18, run, options)).toEqual({ action: 'start', index: 18, reason: 'far-ahead' });
  });

  it('waits for a request exactly at the lead limit', () => {
    expect(decideRun(17, run, options)).toEqual({ action: 'wait' });
  });

  it('waits for a request within the lead', () => {
    expect(decideRun(15, run, options)).toEqual({ action: 'wait' });
  });

  it('waits for the run start itself', () => {
    expect(decideRun(10, run, options)).toEqual({ action: 'wait' });
  });

  it('measures the lead from before the first segment of a run that has produced nothing', () => {
    const fresh: RunView = { startIndex: 10, endIndex: 30, producedIndex: 9 };
    expect(decideRun(12, fresh, options)).toEqual({ action: 'wait' });
    expect(decideRun(13, fresh, options)).toEqual({ action: 'start', index: 13, reason: 'far-ahead' });
  });

  it('checks the run end before the lead', () => {
    const short: RunView = { startIndex: 10, endIndex: 12, producedIndex: 9 };
    expect(decideRun(12, short, { maxLeadSegments: 100 })).toEqual({ action: 'start', index: 12, reason: 'past-run-end' });
  });
});
