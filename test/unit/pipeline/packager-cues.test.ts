import { describe, it, expect } from 'vitest';
import { planTitle, renditionsOfKind, type TitlePlan } from '../../../src/media/plan.js';
import { cuesFlagFile, packagerArgs, packagerCues } from '../../../src/pipeline/packager-args.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';

// A 40 s H.264 title with key frames every 5.2 s, copied; its 5.1 AAC track gives an encoded stereo
// rendition and a copied 5.1 one.
function keyFramePlan(): TitlePlan {
  const info = mediaInfo({ audio: [{ channels: 6 }] });
  const keyFrames = Array.from({ length: 8 }, (_, i) => Math.round(i * 5.2 * 1e6) / 1e6);
  return planTitle(info, trackAnalysis(info), { segmentSeconds: 4, ladder: [720], copy: true, keyFrames });
}

describe('packagerCues', () => {
  const plan = keyFramePlan();
  const [video720, original] = renditionsOfKind(plan, 'video');
  const [stereo, surround] = renditionsOfKind(plan, 'audio');

  it('lists no cues on a uniform timeline: the packager\'s own D grid is the cut', () => {
    const info = mediaInfo();
    const uniform = planTitle(info, trackAnalysis(info), { segmentSeconds: 4, ladder: [720] });
    expect(packagerCues(uniform, renditionsOfKind(uniform, 'video')[0]!, { startIndex: 0, endIndex: 10 })).toEqual([]);
  });

  it('cues video, copied or encoded, at each boundary\'s cut in media time (content + D)', () => {
    for (const rendition of [video720!, original!]) {
      const cues = packagerCues(plan, rendition, { startIndex: 0, endIndex: plan.timeline.count });
      expect(cues.map((c) => c.toFixed(4))).toEqual(['9.1995', '14.3995', '19.5995', '24.7995', '29.9995', '35.1995', '40.3995']);
    }
  });

  it('cues a restart from its own first boundary to the end of its range only', () => {
    const cues = packagerCues(plan, original!, { startIndex: 3, endIndex: 5 });
    expect(cues.map((c) => c.toFixed(4))).toEqual(['19.5995', '24.7995', '29.9995']);
  });

  // The packager cuts audio before the first frame whose midpoint reaches the cue: a cue at a
  // frame's start is half a frame from both midpoints around it.
  it('cues encoded audio at the start of the first AAC frame at or after the cut', () => {
    expect(stereo!.mode).toBe('encode');
    const [first] = packagerCues(plan, stereo!, { startIndex: 1, endIndex: 2 });
    // 5.1995 s = 249,576 samples: the first frame at or after it is frame 244 (249,856 samples).
    expect(first).toBeCloseTo((244 * 1024) / 48_000 + 4, 9);
  });

  it('cues copied audio at the cut itself: the packager takes its frame nearest it', () => {
    expect(surround!.mode).toBe('copy');
    expect(packagerCues(plan, surround!, { startIndex: 1, endIndex: 2 })[0]).toBeCloseTo(9.1995, 9);
  });

  it('hands the cues over in a flag file and turns the packager\'s own cutting off', () => {
    expect(cuesFlagFile([9.1995, 14.4])).toBe('--ad_cues=9.199500;14.400000\n');
    const args = packagerArgs('input.ts', [{ stream: 'video', dir: 'out' }], 4, 'cues.flags');
    expect(args.slice(args.indexOf('--segment_duration'), args.indexOf('--segment_duration') + 4)).toEqual(['--segment_duration', '1000000', '--flagfile', 'cues.flags']);
  });
});
