// Tracks of unequal length and the picture a person expects, as ffmpeg arguments.
import { describe, it, expect } from 'vitest';
import { findRendition, planTitle, type TitlePlan } from '../../../src/media/plan.js';
import type { TrackExtent } from '../../../src/media/tracks.js';
import { ffmpegArgs, type RunRange } from '../../../src/pipeline/ffmpeg-args.js';
import { mediaInfo, trackAnalysis, type InfoOptions } from '../../support/media-info.js';

const INPUT = 'file:/media/a.mkv';

// A one-rung (720p) ladder: the video rendition is video-720p whatever the source's size.
function planOf(options: InfoOptions, extents: Partial<TrackExtent>[] = [], detected?: 'tff' | 'bff'): TitlePlan {
  const info = mediaInfo(options);
  return planTitle(info, trackAnalysis(info, extents, detected), { segmentSeconds: 4, ladder: [720] });
}

// One run of the video rendition, or of the audio one (audio-1) when asked.
function argsFor(plan: TitlePlan, range: Partial<RunRange> = {}, kind: 'video' | 'audio' = 'video'): string[] {
  const rendition = kind === 'video' ? plan.renditions.find((r) => r.kind === 'video') : findRendition(plan, 'audio-1');
  if (rendition === undefined || rendition.kind === 'text') throw new Error(`the plan has no ${kind} rendition`);
  return ffmpegArgs(INPUT, 'matroska', plan, rendition, { startIndex: 0, endIndex: plan.timeline.count, ...range });
}

function valueOf(args: string[], flag: string): string {
  const at = args.indexOf(flag);
  expect(at, `${flag} is missing`).toBeGreaterThanOrEqual(0);
  return args[at + 1]!;
}

function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('ffmpegArgs for tracks of unequal length', () => {
  // 40 s of video; the audio ends at 27.5 s.
  const shortAudio = planOf({ durationSeconds: 40 }, [{ index: 1, endSeconds: 27.5 }]);

  it('pads audio that ends inside the run with silence up to the title end', () => {
    expect(valueOf(argsFor(shortAudio, {}, 'audio'), '-af')).toBe('aresample=48000,aresample=async=1:first_pts=0,apad,atrim=end=40.000000');
  });

  it('encodes silence on the same sample grid for a run that starts after the audio ended', () => {
    const args = argsFor(shortAudio, { startIndex: 8 }, 'audio');
    expect(valuesOf(args, '-i')).toEqual([INPUT, 'anullsrc=r=48000:cl=stereo']);
    expect(valuesOf(args, '-map')).toEqual(['1:a:0']);
    const firstPts = Math.floor((32 * 48_000) / 1024) * 1024 - 3 * 1024;
    expect(valueOf(args, '-af')).toBe(`asetpts=PTS+${firstPts},atrim=end=40.000000`);
    // The same priming and pre-roll packets are dropped as from the source.
    expect(valueOf(args, '-bsf:a')).toBe(valueOf(argsFor(planOf({ durationSeconds: 40 }), { startIndex: 8 }, 'audio'), '-bsf:a'));
  });

  it('reads the source audio for a run that starts before the audio ends', () => {
    const args = argsFor(shortAudio, { startIndex: 6 }, 'audio');
    expect(valuesOf(args, '-i')).toEqual([INPUT]);
    expect(valueOf(args, '-af')).toContain(',apad,atrim=end=40.000000');
  });

  it('pads nothing where every track lasts the whole run', () => {
    const plan = planOf({ durationSeconds: 40 });
    expect(valueOf(argsFor(plan, {}, 'audio'), '-af')).not.toContain('apad');
    expect(valueOf(argsFor(plan), '-vf')).not.toContain('tpad');
  });

  // 40 s of audio; the video's last frame starts at 21.0 s and ends at 21.04 s.
  const shortVideo = planOf({ durationSeconds: 40 }, [{ index: 0, endSeconds: 21.04, lastSeconds: 21 }]);

  it('holds the last video frame up to the title end, on a 90 kHz time base', () => {
    expect(valueOf(argsFor(shortVideo), '-vf')).toBe('settb=1/90000,tpad=stop=-1:stop_mode=clone,trim=end=40.000000,scale=1280:720,setsar=1,format=yuv420p');
  });

  it('reads the last video frame from a second input for a run that starts after the video ended', () => {
    const args = argsFor(shortVideo, { startIndex: 7 });
    expect(valuesOf(args, '-i')).toEqual([INPUT, INPUT]);
    expect(valuesOf(args, '-ss')).toEqual(['27.750000', '20.000000']);
    expect(valuesOf(args, '-map')).toEqual(['1:0']);
    expect(valueOf(args, '-vf')).toMatch(/^settb=1\/90000,tpad=stop=-1:stop_mode=clone,trim=start=28\.000000:end=40\.000000,/);
  });

  it('holds the video to the title end before the AAC-grid rounding, not to the rounded end', () => {
    // 39.5 s of video, audio to 40.99 s: the title ends on the AAC grid at 41.002667 s.
    const plan = planOf({ durationSeconds: 41 }, [{ index: 0, endSeconds: 39.5, lastSeconds: 39.46 }, { index: 1, endSeconds: 40.99 }]);
    expect(plan.timeline.durationSeconds).toBeCloseTo((1922 * 1024) / 48_000, 9);
    expect(valueOf(argsFor(plan), '-vf')).toContain('trim=end=40.990000,');
    expect(valueOf(argsFor(plan, {}, 'audio'), '-af')).toContain(`atrim=end=${((1922 * 1024) / 48_000).toFixed(6)}`);
  });

  it('holds nothing when the video lasts the title and only the AAC rounding goes past it', () => {
    const plan = planOf({ durationSeconds: 10 }, [{ index: 0, endSeconds: 10, lastSeconds: 9.967 }]);
    expect(plan.timeline.durationSeconds).toBeCloseTo((469 * 1024) / 48_000, 9);
    expect(valueOf(argsFor(plan), '-vf')).not.toContain('tpad');
  });

  it('stops padding at the end of a limited run, not at the title end', () => {
    const args = argsFor(shortVideo, { startIndex: 0, endIndex: 7 });
    expect(valueOf(args, '-vf')).toContain('trim=end=28.500000');
  });

  // The video's first frame comes 6.021 s after the audio's first sample.
  const lateVideo = planOf({ durationSeconds: 40 }, [{ index: 0, startSeconds: 6.021 }]);

  it('repeats the first video frame backwards from its start for a run from the title start', () => {
    const args = argsFor(lateVideo);
    expect(args).not.toContain('-vf');
    expect(valuesOf(args, '-map')).toEqual(['[video]']);
    expect(valuesOf(args, '-i')).toEqual([INPUT, INPUT]);
    const graph = valueOf(args, '-filter_complex');
    // floor(6.021 * 30) = 180 frames, the last 1/30 s before the first real frame.
    expect(graph).toContain('[1:0]trim=end_frame=1,settb=1/90000,loop=loop=179:size=1:start=0,setpts=round(541890-(180-N)*3000)[pad]');
    expect(graph).toContain('[0:0]settb=1/90000[real]');
    expect(graph).toContain('[pad][real]interleave,scale=1280:720,setsar=1,format=yuv420p[video]');
  });

  it('repeats only the frames from the cut on for a restart before the video starts', () => {
    const graph = valueOf(argsFor(lateVideo, { startIndex: 1 }), '-filter_complex');
    // floor((6.021 - 4) * 30) = 60 frames, on the same grid as from the start.
    expect(graph).toContain('loop=loop=59:size=1:start=0,setpts=round(541890-(60-N)*3000)[pad]');
    expect(graph).toContain('interleave,trim=start=4.000000,');
  });

  it('holds the last frame on the source branch, before interleave, and tells x264 the frame rate', () => {
    // interleave's output link has no frame rate: tpad after it stepped by garbage and never ended.
    const both = planOf({ durationSeconds: 40 }, [{ index: 0, startSeconds: 6.021, endSeconds: 30, lastSeconds: 29.96 }]);
    const args = argsFor(both);
    const graph = valueOf(args, '-filter_complex');
    expect(graph).toContain('[0:0]settb=1/90000,tpad=stop=-1:stop_mode=clone[real]');
    expect(graph).toContain('[pad][real]interleave,trim=end=40.000000,scale=');
    expect(valueOf(args, '-r')).toBe('30/1');
    expect(argsFor(planOf({ durationSeconds: 40 }))).not.toContain('-r');
  });

  it('needs no repeated frame once the run starts after the video started', () => {
    expect(argsFor(lateVideo, { startIndex: 2 })).not.toContain('-filter_complex');
  });
});

describe('ffmpegArgs for the picture', () => {
  it('rotates a portrait phone video upright after deinterlacing, before scaling', () => {
    const plan = planOf({ video: { rotation: 90, fieldOrder: 'interlaced', topFieldFirst: true } });
    expect(valueOf(argsFor(plan), '-vf')).toBe('bwdif=mode=send_frame:parity=auto:deint=interlaced,transpose=clock,scale=720:1280,setsar=1,format=yuv420p');
    expect(argsFor(plan)).toContain('-noautorotate');
  });

  it.each([
    { rotation: 270 as const, filters: 'transpose=cclock' },
    { rotation: 180 as const, filters: 'hflip,vflip' },
  ])('turns a $rotation degree rotation into $filters', ({ rotation, filters }) => {
    expect(valueOf(argsFor(planOf({ video: { rotation } })), '-vf').startsWith(`${filters},scale=`)).toBe(true);
  });

  it('deinterlaces every frame with the detected parity when the flag says progressive but idet says otherwise', () => {
    const plan = planOf({ video: { codec: 'mpeg2video', width: 720, height: 576, displayWidth: 1024 } }, [], 'bff');
    expect(valueOf(argsFor(plan), '-vf')).toMatch(/^bwdif=mode=send_frame:parity=bff:deint=all,scale=1024:576,/);
  });

  it('tone-maps PQ to BT.709 after scaling and tags the output BT.709', () => {
    const args = argsFor(planOf({ video: { colorTransfer: 'smpte2084', pixelFormat: 'yuv420p10le' } }));
    expect(valueOf(args, '-vf')).toBe(
      'scale=1280:720,zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,setsar=1,format=yuv420p',
    );
    expect([valueOf(args, '-color_primaries'), valueOf(args, '-color_trc'), valueOf(args, '-colorspace')]).toEqual(['bt709', 'bt709', 'bt709']);
  });

  it('leaves an SDR picture untagged and untouched by tone mapping', () => {
    const args = argsFor(planOf({ video: { colorTransfer: 'bt709' } }));
    expect(valueOf(args, '-vf')).not.toContain('tonemap');
    expect(args).not.toContain('-color_trc');
  });
});
