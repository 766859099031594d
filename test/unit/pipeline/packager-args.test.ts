import { describe, it, expect } from 'vitest';
import { packagerArgs } from '../../../src/pipeline/packager-args.js';

const STREAMS = [
  { stream: 'video', dir: 'video-720p' },
  { stream: 'audio', dir: 'audio' },
] as const;

describe('packagerArgs', () => {
  const args = packagerArgs('/dev/stdin', [...STREAMS], 4);
  // The stream descriptors come first, one per rendition.
  const descriptors = args.slice(0, STREAMS.length);

  it('writes one stream descriptor per rendition, in order, reading the given input', () => {
    expect(args.slice(0, 2)).toEqual([
      'in=/dev/stdin,stream=video,init_segment=video-720p/init.mp4,segment_template=video-720p/$Time$.m4s',
      'in=/dev/stdin,stream=audio,init_segment=audio/init.mp4,segment_template=audio/$Time$.m4s',
    ]);
  });

  it('uses directories relative to the run directory', () => {
    expect(descriptors.filter((d) => d.startsWith('in='))).toHaveLength(STREAMS.length);
    for (const descriptor of descriptors) {
      expect(descriptor).not.toMatch(/init_segment=\//);
      expect(descriptor).not.toMatch(/segment_template=\//);
    }
  });

  it('names segment files after their start time, not a per-run counter', () => {
    expect(descriptors.filter((d) => d.startsWith('in='))).toHaveLength(STREAMS.length);
    for (const descriptor of descriptors) {
      expect(descriptor).toContain('$Time$');
      expect(descriptor).not.toContain('$Number$');
    }
  });

  it('passes the segment duration', () => {
    expect(args[args.indexOf('--segment_duration') + 1]).toBe('4');
    const six = packagerArgs('/dev/stdin', [...STREAMS], 6);
    expect(six[six.indexOf('--segment_duration') + 1]).toBe('6');
  });

  it('uses a fake muxer clock so the first init is identical across runs', () => {
    expect(args).toContain('--use_fake_clock_for_muxer');
  });

  it('sets a 4 MiB I/O cache and runs quietly', () => {
    expect(args[args.indexOf('--io_cache_size') + 1]).toBe('4194304');
    expect(args).toContain('--quiet');
  });

  it('writes only the descriptors it is given', () => {
    const videoOnly = packagerArgs('fifo', [{ stream: 'video', dir: 'v' }], 4);
    expect(videoOnly.filter((a) => a.startsWith('in='))).toEqual([
      'in=fifo,stream=video,init_segment=v/init.mp4,segment_template=v/$Time$.m4s',
    ]);
  });
});
