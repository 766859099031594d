import { describe, it, expect } from 'vitest';
import { FORMAT_WHITELIST } from '../../../src/media/formats.js';
import { DEFAULT_LADDER } from '../../../src/media/ladder.js';
import { findRendition, planTitle, renditionsOfKind, type TitlePlan } from '../../../src/media/plan.js';
import type { AudioStreamInfo } from '../../../src/media/probe.js';
import { Timeline } from '../../../src/media/timeline.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';
import { ffmpegArgs, type RunRange } from '../../../src/pipeline/ffmpeg-args.js';

const INPUT = 'file:/media/-rf.mp4';
const VIDEO = 'video-720p';
const AUDIO = 'audio-1';

interface PlanOptions {
  durationSeconds?: number;
  startSeconds?: number;
  audio?: Partial<AudioStreamInfo>[];
}

// The plan for a 1080p30 source with stereo audio at stream index 1, the default ladder, 4 s segments.
function buildPlan(options: PlanOptions = {}): TitlePlan {
  const info = mediaInfo({
    absolute: '/media/-rf.mp4',
    durationSeconds: options.durationSeconds ?? 40,
    startSeconds: options.startSeconds ?? 0,
    audio: options.audio ?? [{}],
  });
  return planTitle(info, trackAnalysis(info), { segmentSeconds: 4, ladder: DEFAULT_LADDER });
}

// The arguments of one run of one rendition (the 720p video unless named).
function argsFor(plan: TitlePlan, range: Partial<RunRange> = {}, renditionId = VIDEO): string[] {
  const rendition = findRendition(plan, renditionId);
  if (rendition === undefined || rendition.kind === 'text') throw new Error(`${renditionId} is not an encoded rendition of the plan`);
  return ffmpegArgs(INPUT, 'mov', plan, rendition, { startIndex: 0, endIndex: plan.timeline.count, ...range });
}

// The value following `flag`, failing when the flag is absent.
function valueOf(args: string[], flag: string): string {
  const at = args.indexOf(flag);
  expect(at, `${flag} is missing`).toBeGreaterThanOrEqual(0);
  return args[at + 1]!;
}

function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

function keyFrames(args: string[]): string[] {
  return valueOf(args, '-force_key_frames').split(',');
}

describe('ffmpegArgs', () => {
  describe('a run from the start', () => {
    const plan = buildPlan();
    const args = argsFor(plan);
    const audio = argsFor(plan, {}, AUDIO);

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
      expect(valueOf(audio, '-af')).toBe('aresample=48000,aresample=async=1:first_pts=0,atrim=end=40.000000');
      expect(valueOf(audio, '-bsf:a')).toBe('noise=drop=lt(n\\,1)');
    });

    it('shifts media time by one segment and keeps source timestamps, video and audio alike', () => {
      for (const run of [args, audio]) {
        expect(valueOf(run, '-output_ts_offset')).toBe('4.000000');
        expect(run).toContain('-copyts');
        expect(valueOf(run, '-muxdelay')).toBe('0');
        expect(valueOf(run, '-muxpreload')).toBe('0');
      }
    });

    it('restricts ffmpeg to local files and the allowed demuxers', () => {
      for (const run of [args, audio]) {
        expect(valueOf(run, '-protocol_whitelist')).toBe('file');
        expect(valueOf(run, '-format_whitelist')).toBe(FORMAT_WHITELIST);
      }
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

    it('maps only the video stream in a video run, with no audio encoder, filter or bitstream filter', () => {
      expect(valuesOf(args, '-map')).toEqual(['0:0']);
      for (const flag of ['-c:a', '-af', '-bsf:a', '-ar', '-ac', '-b:a']) expect(args).not.toContain(flag);
    });

    it('maps only its audio stream in an audio run, with no video encoder, filter or key frames', () => {
      expect(valuesOf(audio, '-map')).toEqual(['0:1']);
      for (const flag of ['-c:v', '-vf', '-filter_complex', '-force_key_frames', '-profile:v']) expect(audio).not.toContain(flag);
    });

    it('encodes stereo 48 kHz AAC', () => {
      expect(valueOf(audio, '-c:a')).toBe('aac');
      expect(valueOf(audio, '-ar')).toBe('48000');
      expect(valueOf(audio, '-ac')).toBe('2');
      expect(valueOf(audio, '-b:a')).toBe('128000');
    });

    it('writes MPEG-TS to stdout as its last arguments', () => {
      expect(args.slice(-3)).toEqual(['-f', 'mpegts', 'pipe:1']);
      expect(audio.slice(-3)).toEqual(['-f', 'mpegts', 'pipe:1']);
    });

    it('has no input duration limit when it runs to the end', () => {
      expect(args).not.toContain('-t');
      expect(audio).not.toContain('-t');
    });
  });

  describe('a restart at segment index 11 (S = 44 s)', () => {
    const plan = buildPlan({ durationSeconds: 120 });
    const args = argsFor(plan, { startIndex: 11 });
    const audio = argsFor(plan, { startIndex: 11 }, AUDIO);

    it('seeks a little before the cut, counting from the file start, video and audio alike', () => {
      expect(valueOf(args, '-ss')).toBe('43.750000');
      expect(args.indexOf('-ss')).toBeLessThan(args.indexOf('-i'));
      expect(valueOf(audio, '-ss')).toBe('43.750000');
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
      expect(valueOf(audio, '-af')).toBe('aresample=48000,aresample=async=1:first_pts=2108416,atrim=end=120.000000');
    });

    it('drops priming, pre-roll and the frame straddling the off-grid cut', () => {
      expect(valueOf(audio, '-bsf:a')).toBe('noise=drop=lt(n\\,5)');
    });

    it('keeps the same output offset as a run from the start', () => {
      expect(valueOf(args, '-output_ts_offset')).toBe('4.000000');
      expect(valueOf(audio, '-output_ts_offset')).toBe('4.000000');
    });
  });

  it('drops no straddling frame when the cut lies on the 1024-sample grid', () => {
    const args = argsFor(buildPlan(), { startIndex: 2 }, AUDIO);
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
      expect(valueOf(argsFor(plan, { startIndex: 11 }, AUDIO), '-output_ts_offset')).toBe('2.600000');
    });

    it('anchors the audio grid at the source start', () => {
      expect(valueOf(argsFor(plan, {}, AUDIO), '-af')).toBe('aresample=48000,aresample=async=1:first_pts=67200,atrim=end=121.400000');
      expect(valueOf(argsFor(plan, { startIndex: 11 }, AUDIO), '-af')).toBe(
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

    it('limits an audio run the same way', () => {
      expect(valueOf(argsFor(plan, { startIndex: 11, endIndex: 20 }, AUDIO), '-t')).toBe('36.750000');
    });

    it('has no input duration limit when its end is the end of the title', () => {
      expect(argsFor(plan, { startIndex: 11, endIndex: plan.timeline.count })).not.toContain('-t');
    });
  });

  describe('a title without audio', () => {
    const plan = buildPlan({ audio: [] });
    const args = argsFor(plan);

    it('plans no audio rendition to run', () => {
      expect(renditionsOfKind(plan, 'audio')).toEqual([]);
    });

    it('has no audio encoder, filter or bitstream filter', () => {
      for (const flag of ['-c:a', '-af', '-bsf:a', '-ar', '-ac', '-b:a']) expect(args).not.toContain(flag);
    });

    it('maps only the video stream', () => {
      expect(valuesOf(args, '-map')).toEqual(['0:0']);
    });
  });
});

describe('ffmpegArgs for the renditions of a title', () => {
  // English 5.1 at stream index 1, French stereo at stream index 2.
  const plan = buildPlan({ audio: [{ index: 1, channels: 6, language: 'eng' }, { index: 2, language: 'fra' }] });

  it('encodes a 5.1 rendition with six channels at 384 kbit/s', () => {
    const args = argsFor(plan, {}, 'audio-1-6ch');
    expect(valuesOf(args, '-map')).toEqual(['0:1']);
    expect(valueOf(args, '-ac')).toBe('6');
    expect(valueOf(args, '-b:a')).toBe('384000');
  });

  it('downmixes the same source track to stereo at 128 kbit/s for its stereo rendition', () => {
    const args = argsFor(plan, {}, 'audio-1');
    expect(valuesOf(args, '-map')).toEqual(['0:1']);
    expect([valueOf(args, '-ac'), valueOf(args, '-b:a')]).toEqual(['2', '128000']);
  });

  it('maps a second audio track by its own stream index', () => {
    expect(valuesOf(argsFor(plan, {}, 'audio-2'), '-map')).toEqual(['0:2']);
    expect(valuesOf(argsFor(plan, { startIndex: 3 }, 'audio-2'), '-map')).toEqual(['0:2']);
  });

  it('scales each rung of the ladder to its own size and caps it at its own bitrate', () => {
    const rungs = renditionsOfKind(plan, 'video').map((r) => {
      const args = argsFor(plan, {}, r.id);
      return [r.id, valueOf(args, '-vf'), valueOf(args, '-maxrate')];
    });
    expect(rungs).toEqual([
      ['video-360p', 'scale=640:360,setsar=1,format=yuv420p', '800000'],
      ['video-480p', 'scale=854:480,setsar=1,format=yuv420p', '1400000'],
      ['video-720p', 'scale=1280:720,setsar=1,format=yuv420p', '3000000'],
      ['video-1080p', 'scale=1920:1080,setsar=1,format=yuv420p', '6000000'],
    ]);
  });

  it('forces key frames at the boundaries of the title\'s timeline, the same in every rung', () => {
    // A timeline of 5 s segments, unlike the plan's D = 4: key frames follow the timeline.
    const fives = { ...plan, timeline: Timeline.uniform(40, 5, 8) };
    for (const video of renditionsOfKind(fives, 'video')) {
      expect(keyFrames(argsFor(fives, {}, video.id))).toEqual(['0.000000', '5.000000', '10.000000', '15.000000', '20.000000', '25.000000', '30.000000', '35.000000']);
    }
    const limited = argsFor(fives, { startIndex: 3, endIndex: 6 });
    expect(keyFrames(limited)).toEqual(['15.000000', '20.000000', '25.000000', '30.000000']);
    expect(valueOf(limited, '-vf')).toMatch(/^trim=start=15\.000000,/);
  });
});
