// An audio-only title (music, podcasts, audiobooks): manifests, plan and encoder arguments.
import { describe, it, expect } from 'vitest';
import { renderMpd } from '../../../src/manifest/dash.js';
import { renderMediaPlaylist, renderMultivariantPlaylist } from '../../../src/manifest/hls.js';
import { planPlayback } from '../../../src/media/plan.js';
import { ffmpegArgs } from '../../../src/pipeline/ffmpeg-args.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';

const info = { ...mediaInfo({ durationSeconds: 10 }), video: undefined };
const plan = planPlayback(info, trackAnalysis(info), 4);

describe('an audio-only title', () => {
  it('plans one AAC rendition and no video, ending on AAC frames rather than video frames', () => {
    expect(plan.video).toBeUndefined();
    expect(plan.model.video).toBeUndefined();
    expect(plan.model.audio).toMatchObject({ id: 'audio', codecs: 'mp4a.40.2' });
    // 10 s is 468.75 AAC frames: the title ends with the 469th.
    expect(plan.model).toMatchObject({ segmentCount: 3, durationSeconds: (469 * 1024) / 48_000 });
  });

  it('lists only an audio adaptation set in the MPD', () => {
    const mpd = renderMpd(plan.model);
    expect(mpd).toContain('contentType="audio"');
    expect(mpd).not.toContain('contentType="video"');
    expect(mpd.match(/<AdaptationSet/g)).toHaveLength(1);
  });

  it('makes the audio playlist the one HLS variant', () => {
    const text = renderMultivariantPlaylist(plan.model, { baseUrl: '/s/' });
    expect(text).toBe('#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=140800,CODECS="mp4a.40.2"\n/s/audio.m3u8\n');
    expect(renderMediaPlaylist(plan.model, 'audio')).toContain('#EXTINF:2.005,');
  });

  it('encodes audio only, with no video map, filter or encoder', () => {
    const args = ffmpegArgs('file:/m/a.m4a', 'mov', plan, { startIndex: 1, endIndex: 3 });
    expect(args.filter((a) => a === '-map')).toHaveLength(1);
    for (const flag of ['-vf', '-filter_complex', '-c:v', '-force_key_frames']) expect(args).not.toContain(flag);
    expect(args).toContain('-c:a');
  });
});
