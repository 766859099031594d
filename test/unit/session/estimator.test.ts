import { describe, it, expect } from 'vitest';
import { EncoderEstimator } from '../../../src/session/estimator.js';

describe('EncoderEstimator', () => {
  it('uses a 1.5 s cold start and 4x speed before any run has been measured', () => {
    const estimator = new EncoderEstimator();
    expect(estimator.coldStartSeconds).toBe(1.5);
    expect(estimator.typicalSpeed).toBe(4);
  });

  it('uses the given defaults before any run has been measured', () => {
    const estimator = new EncoderEstimator({ coldStartSeconds: 0.8, speed: 9 });
    expect(estimator.coldStartSeconds).toBe(0.8);
    expect(estimator.typicalSpeed).toBe(9);
  });

  it('keeps the speed default while only cold starts are recorded, and the reverse', () => {
    const coldOnly = new EncoderEstimator();
    coldOnly.recordColdStart(3);
    expect(coldOnly.coldStartSeconds).toBe(3);
    expect(coldOnly.typicalSpeed).toBe(4);

    const speedOnly = new EncoderEstimator();
    speedOnly.recordSpeed(6);
    expect(speedOnly.coldStartSeconds).toBe(1.5);
    expect(speedOnly.typicalSpeed).toBe(6);
  });

  it('reports the median of an odd number of samples', () => {
    const estimator = new EncoderEstimator();
    for (const s of [2.0, 0.9, 1.2]) estimator.recordColdStart(s);
    for (const s of [5, 3, 100]) estimator.recordSpeed(s);
    expect(estimator.coldStartSeconds).toBe(1.2);
    expect(estimator.typicalSpeed).toBe(5);
  });

  it('reports the mean of the two middle samples for an even number of samples', () => {
    const estimator = new EncoderEstimator();
    for (const s of [4, 1, 3, 2]) estimator.recordColdStart(s);
    for (const s of [6, 2]) estimator.recordSpeed(s);
    expect(estimator.coldStartSeconds).toBe(2.5);
    expect(estimator.typicalSpeed).toBe(4);
  });

  it('counts only the last 9 samples', () => {
    const estimator = new EncoderEstimator();
    // 1..10: the median of all ten would be 5.5, of the last nine (2..10) it is 6.
    for (let i = 1; i <= 10; i++) {
      estimator.recordColdStart(i);
      estimator.recordSpeed(i);
    }
    expect(estimator.coldStartSeconds).toBe(6);
    expect(estimator.typicalSpeed).toBe(6);
  });

  it('lets a run of recent samples outvote old outliers', () => {
    const estimator = new EncoderEstimator();
    for (let i = 0; i < 9; i++) estimator.recordSpeed(100);
    for (let i = 0; i < 9; i++) estimator.recordSpeed(2);
    expect(estimator.typicalSpeed).toBe(2);
  });

  it('ignores speeds that are not finite or not positive', () => {
    const estimator = new EncoderEstimator({ coldStartSeconds: 1, speed: 7 });
    for (const s of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -3]) estimator.recordSpeed(s);
    expect(estimator.typicalSpeed).toBe(7);
    estimator.recordSpeed(3);
    estimator.recordSpeed(Number.NaN);
    estimator.recordSpeed(0);
    expect(estimator.typicalSpeed).toBe(3);
  });

  it('does not let ignored speeds push real samples out of the window', () => {
    const estimator = new EncoderEstimator();
    estimator.recordSpeed(5);
    for (let i = 0; i < 20; i++) estimator.recordSpeed(0);
    expect(estimator.typicalSpeed).toBe(5);
  });
});
