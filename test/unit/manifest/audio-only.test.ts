// An audio-only title (music, podcasts, audiobooks): manifests, plan and encoder arguments.
import { describe, it, expect } from 'vitest';
import { renderMpd } from '../../../src/manifest/dash.js';
import { renderMediaPlaylist, renderMultivariantPlaylist } from '../../../src/manifest/hls.js';
import { DEFAULT_LADDER } from '../../../src/media/ladder.js';
import { findRendition, planTitle, type AudioRendition } from '../../../src/media/plan.js';
import { ffmpegArgs } from '../../../src/pipeline/ffmpeg-args.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';

const info = { ...mediaInfo({ durationSeconds: 10 }), video: undefined };
const plan = planTitle(info, trackAnalysis(info), { segmentSeconds: 4, ladder: DEFAULT_LADDER });

describe('an audio-only title', () => {
  it('plans one AAC rendition and no video, ending on AAC frames rather than video frames', () => {
    expect(plan.renditions.map((r) => r.id)).toEqual(['audio-1']);
    expect(plan.renditions[0]).toMatchObject({ kind: 'audio', codecs: 'mp4a.40.2', isDefault: true });
    // 10 s is 468.75 AAC frames: the title ends with the 469th.
    expect(plan.timeline.count).toBe(3);
    expect(plan.timeline.durationSeconds).toBe((469 * 1024) / 48_000);
  });

  it('lists only an audio adaptation set in the MPD', () => {
    const mpd = renderMpd(plan);
    expect(mpd).toContain('contentType="audio"');
    expect(mpd).not.toContain('contentType="video"');
    expect(mpd.match(/<AdaptationSet/g)).toHaveLength(1);
  });

  it('makes the audio playlist the one HLS variant', () => {
    const text = renderMultivariantPlaylist(plan, { baseUrl: '/s/' });
    expect(text).toBe('#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=140800,CODECS="mp4a.40.2"\n/s/audio-1.m3u8\n');
    expect(renderMediaPlaylist(plan, 'audio-1')).toContain('#EXTINF:2.005,');
  });

  it('encodes audio only, with no video map, filter or encoder', () => {
    const args = ffmpegArgs('file:/m/a.m4a', 'mov', plan, findRendition(plan, 'audio-1') as AudioRendition, { startIndex: 1, endIndex: 3 });
    expect(args.filter((a) => a === '-map')).toHaveLength(1);
    for (const flag of ['-vf', '-filter_complex', '-c:v', '-force_key_frames']) expect(args).not.toContain(flag);
    expect(args).toContain('-c:a');
  });
});

describe('an audio-only title with several audio tracks', () => {
  const tracks = { ...mediaInfo({ durationSeconds: 10, audio: [{ language: 'eng' }, { language: 'deu', isDefault: true }] }), video: undefined };
  const several = planTitle(tracks, trackAnalysis(tracks), { segmentSeconds: 4, ladder: DEFAULT_LADDER });

  it('makes the default track\'s playlist the one variant, with every track in its audio group', () => {
    const lines = renderMultivariantPlaylist(several).trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF:'))).toEqual(['#EXT-X-STREAM-INF:BANDWIDTH=140800,CODECS="mp4a.40.2",AUDIO="audio"']);
    expect(lines.at(-1)).toBe('audio-2.m3u8');
    expect(lines.find((l) => l.includes('DEFAULT=YES'))).toContain('URI="audio-2.m3u8"');
  });
});
