import { describe, expect, it } from 'vitest';
import { launched } from '../../../src/pipeline/binaries.js';

describe('launched', () => {
  it('runs the binary as it is without a launcher', () => {
    expect(launched([], 'ffmpeg', ['-i', 'in.mp4'])).toEqual(['ffmpeg', ['-i', 'in.mp4']]);
  });

  it('runs the binary as the last word of the launcher, its arguments after it', () => {
    expect(launched(['setpriv', '--pdeathsig', 'KILL', '--'], '/usr/bin/ffmpeg', ['-y', 'out.mp4']))
      .toEqual(['setpriv', ['--pdeathsig', 'KILL', '--', '/usr/bin/ffmpeg', '-y', 'out.mp4']]);
  });
});
