import { describe, it, expect } from 'vitest';
import { FORMAT_WHITELIST } from '../../../src/media/formats.js';
import { type PlaybackPlan, planPlayback } from '../../../src/media/plan.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';
import { ffmpegArgs, type RunRange } from '../../../src/pipeline/ffmpeg-args.js';

const INPUT = 'file:/media/-rf.mp4';

interface PlanOptions {
  durationSeconds?: number;
  startSeconds?: number;
  audio?: boolean;
}

// The plan for a 1080p30 source with stereo audio at stream index 1, 4 s segments.
function buildPlan(options: PlanOptions = {}): PlaybackPlan {
  const info = mediaInfo({
    absolute: '/media/-rf.mp4',
    durationSeconds: options.durationSeconds ?? 40,
    startSeconds: options.startSeconds ?? 0,
    audio: options.audio === false ? [] : [{}],
  });
  return planPlayback(info, trackAnalysis(info), 4);
}

function argsFor(plan: PlaybackPlan, range: Partial<RunRange> = {}): string[] {
  return ffmpegArgs(INPUT, 'mov', plan, { startIndex: 0, endIndex: plan.model.segmentCount, ...range });
}

// The value following `flag`, failing when the flag is absent.
function valueOf(args: string[], flag: string): string {
  const at = args.indexOf(flag);
  expect(at, `${flag} is missing`).toBeGreaterThanOrEqual(0);
  return args[at + 1]!;
}

function keyFrames(args: string[]): string[] {
  return valueOf(args, '-force_key_frames').split(',');
}

describe('ffmpegArgs', () => {
  describe('a run from the start', () => {
    const args = argsFor(buildPlan());

    it('does not seek and does not trim', () => {
      expect(args).not.toContain('-ss');
      expect(valueOf(args, '-vf')).not.toContain('trim');
      expect(valueOf(args, '-vf')).toMatch(/^scale=1280:720,/);
    });

    it('forces a key frame at every segment boundary on the absolute timeline', () => {
      expect(valueOf(args, '-force_key_frames')).toBe(
        '0.000000,4.000000,8.000000,12.000000,16.000000,20.000000,24.000000,28.000000,32.000000,36.000000',
      );
    });

    it('anchors the audio at content time zero and drops only the priming packet', () => {
      // The audio input ends at the title's end in every run: the encoder makes the same frames.
      expect(valueOf(args, '-af')).toBe('aresample=48000,aresample=async=1:first_pts=0,atrim=end=40.000000');
      expect(valueOf(args, '-bsf:a')).toBe('noise=drop=lt(n\\,1)');
    });

    it('shifts media time by one segment and keeps source timestamps', () => {
      expect(valueOf(args, '-output_ts_offset')).toBe('4.000000');
      expect(args).toContain('-copyts');
      expect(valueOf(args, '-muxdelay')).toBe('0');
      expect(valueOf(args, '-muxpreload')).toBe('0');
    });

    it('restricts ffmpeg to local files and the allowed demuxers', () => {
      expect(valueOf(args, '-protocol_whitelist')).toBe('file');
      expect(valueOf(args, '-format_whitelist')).toBe(FORMAT_WHITELIST);
    });

    it('forces the demuxer before the input and passes the input verbatim right after -i', () => {
      const inputAt = args.indexOf('-i');
      expect(args.indexOf('-f')).toBeLessThan(inputAt);
      expect(valueOf(args, '-f')).toBe('mov');
      expect(args[inputAt + 1]).toBe(INPUT);
      expect(args.filter((a) => a === INPUT)).toHaveLength(1);
    });

    it('pins the encoder settings that are part of the timeline', () => {
      expect(valueOf(args, '-bf')).toBe('0');
      expect(valueOf(args, '-enc_time_base')).toBe('1:90000');
      expect(valueOf(args, '-fps_mode')).toBe('passthrough');
      expect(valueOf(args, '-forced-idr')).toBe('1');
      expect(valueOf(args, '-sc_threshold')).toBe('0');
      expect(valueOf(args, '-profile:v')).toBe('high');
      expect(valueOf(args, '-level:v')).toBe('3.1');
      expect(valueOf(args, '-preset')).toBe('veryfast');
    });

    it('maps the video and the audio stream by source index', () => {
      const maps = args.flatMap((a, i) => (a === '-map' ? [args[i + 1]] : []));
      expect(maps).toEqual(['0:0', '0:1']);
    });

    it('encodes stereo 48 kHz AAC', () => {
      expect(valueOf(args, '-c:a')).toBe('aac');
      expect(valueOf(args, '-ar')).toBe('48000');
      expect(valueOf(args, '-ac')).toBe('2');
      expect(valueOf(args, '-b:a')).toBe('128000');
    });

    it('writes MPEG-TS to stdout as its last arguments', () => {
      expect(args.slice(-3)).toEqual(['-f', 'mpegts', 'pipe:1']);
    });

    it('has no input duration limit when it runs to the end', () => {
      expect(args).not.toContain('-t');
    });
  });

  describe('a restart at segment index 11 (S = 44 s)', () => {
    const args = argsFor(buildPlan({ durationSeconds: 120 }), { startIndex: 11 });

    it('seeks a little before the cut, counting from the file start', () => {
      expect(valueOf(args, '-ss')).toBe('43.750000');
      expect(args.indexOf('-ss')).toBeLessThan(args.indexOf('-i'));
    });

    it('trims the video exactly at the cut before scaling', () => {
      expect(valueOf(args, '-vf')).toMatch(/^trim=start=44\.000000,scale=1280:720,/);
    });

    it('forces key frames from the cut to the last boundary', () => {
      const frames = keyFrames(args);
      expect(frames[0]).toBe('44.000000');
      expect(frames.at(-1)).toBe('116.000000');
      expect(frames).toHaveLength(19);
    });

    it('starts the audio three AAC frames before the grid frame of the cut', () => {
      expect(valueOf(args, '-af')).toBe('aresample=48000,aresample=async=1:first_pts=2108416,atrim=end=120.000000');
    });

    it('drops priming, pre-roll and the frame straddling the off-grid cut', () => {
      expect(valueOf(args, '-bsf:a')).toBe('noise=drop=lt(n\\,5)');
    });

    it('keeps the same output offset as a run from the start', () => {
      expect(valueOf(args, '-output_ts_offset')).toBe('4.000000');
    });
  });

  it('drops no straddling frame when the cut lies on the 1024-sample grid', () => {
    const args = argsFor(buildPlan(), { startIndex: 2 });
    expect(valueOf(args, '-af')).toBe(`aresample=48000,aresample=async=1:first_pts=${384_000 - 3 * 1024},atrim=end=40.000000`);
    expect(valueOf(args, '-bsf:a')).toBe('noise=drop=lt(n\\,4)');
  });

  describe('a source starting at 1.4 s', () => {
    const plan = buildPlan({ durationSeconds: 120, startSeconds: 1.4 });

    it('puts key frames at the source start plus whole segments', () => {
      const frames = keyFrames(argsFor(plan));
      expect(frames.slice(0, 3)).toEqual(['1.400000', '5.400000', '9.400000']);
    });

    it('maps the source start to media time D', () => {
      expect(valueOf(argsFor(plan), '-output_ts_offset')).toBe('2.600000');
      expect(valueOf(argsFor(plan, { startIndex: 11 }), '-output_ts_offset')).toBe('2.600000');
    });

    it('anchors the audio grid at the source start', () => {
      expect(valueOf(argsFor(plan), '-af')).toBe('aresample=48000,aresample=async=1:first_pts=67200,atrim=end=121.400000');
      expect(valueOf(argsFor(plan, { startIndex: 11 }), '-af')).toBe(
        `aresample=48000,aresample=async=1:first_pts=${67_200 + 2_108_416},atrim=end=121.400000`,
      );
    });

    it('trims at the absolute cut but seeks relative to the file start', () => {
      const args = argsFor(plan, { startIndex: 11 });
      expect(valueOf(args, '-vf')).toMatch(/^trim=start=45\.400000,/);
      expect(valueOf(args, '-ss')).toBe('43.750000');
      expect(keyFrames(args)[0]).toBe('45.400000');
    });
  });

  describe('a limited run', () => {
    const plan = buildPlan({ durationSeconds: 120 });

    it('limits the input duration and forces the closing key frame', () => {
      const args = argsFor(plan, { startIndex: 0, endIndex: 5 });
      expect(valueOf(args, '-t')).toBe('20.500000');
      expect(args.indexOf('-t')).toBeLessThan(args.indexOf('-i'));
      expect(keyFrames(args)).toEqual(['0.000000', '4.000000', '8.000000', '12.000000', '16.000000', '20.000000']);
    });

    it('counts the duration from the seek point of a restart', () => {
      const args = argsFor(plan, { startIndex: 11, endIndex: 20 });
      expect(valueOf(args, '-t')).toBe('36.750000');
      expect(keyFrames(args).at(-1)).toBe('80.000000');
    });

    it('has no input duration limit when its end is the end of the title', () => {
      expect(argsFor(plan, { startIndex: 11, endIndex: plan.model.segmentCount })).not.toContain('-t');
    });
  });

  describe('a plan without audio', () => {
    const args = argsFor(buildPlan({ audio: false }));

    it('has no audio encoder, filter or bitstream filter', () => {
      for (const flag of ['-c:a', '-af', '-bsf:a', '-ar', '-ac', '-b:a']) expect(args).not.toContain(flag);
    });

    it('maps only the video stream', () => {
      expect(args.filter((a) => a === '-map')).toHaveLength(1);
      expect(valueOf(args, '-map')).toBe('0:0');
    });
  });
});
