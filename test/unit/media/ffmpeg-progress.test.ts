import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { followProgress, progressMicroseconds } from '../../../src/media/ffmpeg-progress.js';

describe('followProgress', () => {
  it('turns out_time_us lines into fractions of the duration, across chunk boundaries', async () => {
    const stdout = new PassThrough();
    const seen: number[] = [];
    followProgress(stdout, 10, { update: (f) => seen.push(f), end: () => {} });
    stdout.write('frame=30\nout_time_us=2500');
    stdout.write('000\nspeed=5x\nprogress=continue\nout_time_us=10000000\n');
    stdout.end('progress=end\n');
    await new Promise((resolve) => stdout.on('end', resolve));
    expect(seen).toEqual([0.25, 1]);
  });

  it('reads only out_time_us, not out_time_ms or other keys', () => {
    expect(progressMicroseconds('out_time_us=1500000')).toBe(1_500_000);
    expect(progressMicroseconds('out_time_ms=1500000')).toBeUndefined();
    expect(progressMicroseconds('out_time=00:00:01.5')).toBeUndefined();
    expect(progressMicroseconds('out_time_us=N/A')).toBeUndefined();
  });
});
