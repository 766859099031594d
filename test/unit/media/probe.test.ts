import { describe, it, expect } from 'vitest';
import { SeekwellError } from '../../../src/errors.js';
import { looksLikePlaylist } from '../../../src/media/formats.js';
import { parseProbeOutput } from '../../../src/media/probe.js';

type ProbeJson = Parameters<typeof parseProbeOutput>[0];
type Stream = NonNullable<ProbeJson['streams']>[number];

const MP4 = 'mov,mp4,m4a,3gp,3g2,mj2';

function videoStream(extra: Partial<Stream> = {}): Stream {
  return {
    index: 0, codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080,
    sample_aspect_ratio: '1:1', avg_frame_rate: '30000/1001', r_frame_rate: '60000/1001', disposition: { attached_pic: 0 },
    time_base: '1/30000', start_time: '0.033367', field_order: 'progressive', pix_fmt: 'yuv420p', color_transfer: 'bt709',
    ...extra,
  };
}

function audioStream(extra: Partial<Stream> = {}): Stream {
  return {
    index: 1, codec_type: 'audio', codec_name: 'aac', channels: 2, sample_rate: '48000', tags: { language: 'eng' },
    time_base: '1/48000', start_time: '0.021333', ...extra,
  };
}

// ffprobe -show_format -show_streams JSON for a 1080p29.97 MP4 with stereo AAC.
function probeJson(options: { formatName?: string; duration?: string | undefined; startTime?: string; streams?: Stream[] } = {}): ProbeJson {
  return {
    format: {
      format_name: options.formatName ?? MP4,
      ...('duration' in options ? (options.duration === undefined ? {} : { duration: options.duration }) : { duration: '60.060000' }),
      start_time: options.startTime ?? '0.000000',
    },
    streams: options.streams ?? [videoStream(), audioStream()],
  };
}

function parse(json: ProbeJson): ReturnType<typeof parseProbeOutput> {
  return parseProbeOutput(json, '/media/a.mp4', 1234, 5678);
}

// The SeekwellError parseProbeOutput throws, or a failed expectation when it does not throw.
function refusal(json: ProbeJson): SeekwellError {
  try {
    parse(json);
  } catch (error) {
    expect(error).toBeInstanceOf(SeekwellError);
    return error as SeekwellError;
  }
  throw new Error('expected parseProbeOutput to throw');
}

describe('parseProbeOutput', () => {
  it('reads a normal MP4 into MediaInfo', () => {
    expect(parse(probeJson({ startTime: '0.021333' }))).toEqual({
      absolute: '/media/a.mp4', size: 1234, mtimeMs: 5678, formatName: MP4,
      demuxer: 'mov', needsRemux: false, durationSeconds: 60.06, startSeconds: 0.021333,
      video: {
        index: 0, codec: 'h264', width: 1920, height: 1080, displayWidth: 1920, frameRate: { num: 30000, den: 1001 },
        rotation: 0, fieldOrder: 'progressive', topFieldFirst: false, colorTransfer: 'bt709', pixelFormat: 'yuv420p',
        timeBase: 1 / 30000, startSeconds: 0.033367,
      },
      audio: [{
        index: 1, codec: 'aac', channels: 2, sampleRate: 48_000, language: 'eng', title: undefined, isDefault: false,
        timeBase: 1 / 48000, startSeconds: 0.021333,
      }],
      subtitles: [],
    });
  });

  it('reads each audio track\'s title and default flag, and the subtitle streams', () => {
    const info = parse(probeJson({ streams: [
      videoStream(),
      audioStream({ tags: { language: 'eng', title: ' Commentary ' }, disposition: { default: 0 } }),
      audioStream({ index: 2, tags: { language: 'fra' }, disposition: { default: 1 } }),
      { index: 3, codec_type: 'subtitle', codec_name: 'subrip', tags: { language: 'eng' }, disposition: { default: 1, forced: 0 } },
    ] }));
    expect(info.audio.map((a) => [a.title, a.isDefault])).toEqual([['Commentary', false], [undefined, true]]);
    expect(info.subtitles).toEqual([{ index: 3, codec: 'subrip', language: 'eng', title: undefined, isDefault: true, forced: false }]);
  });

  it.each([
    { name: 'a display matrix of -90 (a phone held upright)', extra: { side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] }, rotation: 90 },
    { name: 'a display matrix of 90', extra: { side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] }, rotation: 270 },
    { name: 'a display matrix of 180', extra: { side_data_list: [{ side_data_type: 'Display Matrix', rotation: 180 }] }, rotation: 180 },
    { name: 'a legacy rotate tag of 90', extra: { tags: { rotate: '90' } }, rotation: 90 },
    { name: 'no rotation at all', extra: {}, rotation: 0 },
  ])('reads the clockwise display rotation from $name', ({ extra, rotation }) => {
    expect(parse(probeJson({ streams: [videoStream(extra)] })).video!.rotation).toBe(rotation);
  });

  it.each([
    { flag: 'tt', fieldOrder: 'interlaced', topFieldFirst: true },
    { flag: 'bb', fieldOrder: 'interlaced', topFieldFirst: false },
    { flag: 'progressive', fieldOrder: 'progressive', topFieldFirst: false },
    { flag: undefined, fieldOrder: 'unknown', topFieldFirst: false },
  ])('reads field order $flag as $fieldOrder', ({ flag, fieldOrder, topFieldFirst }) => {
    const video = parse(probeJson({ streams: [videoStream({ field_order: flag })] })).video!;
    expect({ fieldOrder: video.fieldOrder, topFieldFirst: video.topFieldFirst }).toEqual({ fieldOrder, topFieldFirst });
  });

  it('reads a stream without start time as starting where the container says', () => {
    const stream = videoStream();
    delete stream.start_time;
    expect(parse(probeJson({ streams: [stream] })).video!.startSeconds).toBeUndefined();
  });

  it('falls back to r_frame_rate when avg_frame_rate is unknown', () => {
    const info = parse(probeJson({ streams: [videoStream({ avg_frame_rate: '0/0', r_frame_rate: '25/1' })] }));
    expect(info.video!.frameRate).toEqual({ num: 25, den: 1 });
  });

  it('refuses a video stream without any frame rate', () => {
    const error = refusal(probeJson({ streams: [videoStream({ avg_frame_rate: '0/0', r_frame_rate: '0/0' })] }));
    expect(error.code).toBe('MEDIA_NOT_MEDIA');
  });

  it('reads a missing start time as zero', () => {
    const json = probeJson();
    delete json.format!.start_time;
    expect(parse(json).startSeconds).toBe(0);
  });

  it('marks MPEG-TS for a remux', () => {
    expect(parse(probeJson({ formatName: 'mpegts' }))).toMatchObject({ demuxer: 'mpegts', needsRemux: true });
  });

  it('reads Matroska without a remux', () => {
    expect(parse(probeJson({ formatName: 'matroska,webm' }))).toMatchObject({ demuxer: 'matroska', needsRemux: false });
  });

  it.each(['hls', 'concat', 'image2', ''])('refuses the "%s" format', (formatName) => {
    expect(refusal(probeJson({ formatName })).code).toBe('MEDIA_FORMAT_REFUSED');
  });

  it('refuses output without a format section', () => {
    expect(refusal({ streams: [videoStream()] }).code).toBe('MEDIA_FORMAT_REFUSED');
  });

  it('reads a file without a video stream as audio-only', () => {
    const info = parse(probeJson({ streams: [audioStream({ index: 0 })] }));
    expect(info.video).toBeUndefined();
    expect(info.audio).toHaveLength(1);
  });

  it('refuses a file with neither video nor audio', () => {
    expect(refusal(probeJson({ streams: [] })).code).toBe('MEDIA_NO_STREAMS');
    expect(refusal(probeJson({ streams: [{ index: 0, codec_type: 'subtitle', codec_name: 'subrip' }] })).code).toBe('MEDIA_NO_STREAMS');
  });

  it('reads a file whose only picture is attached cover art as audio-only', () => {
    const cover = videoStream({ codec_name: 'mjpeg', disposition: { attached_pic: 1 } });
    const info = parse(probeJson({ streams: [audioStream({ index: 0 }), { ...cover, index: 1 }] }));
    expect(info.video).toBeUndefined();
    expect(info.audio.map((a) => a.index)).toEqual([0]);
  });

  it('picks the real video stream after cover art', () => {
    const cover = videoStream({ index: 0, codec_name: 'mjpeg', disposition: { attached_pic: 1 } });
    const info = parse(probeJson({ streams: [cover, videoStream({ index: 2 }), audioStream()] }));
    expect(info.video).toMatchObject({ index: 2, codec: 'h264' });
  });

  it('refuses a file without a duration', () => {
    expect(refusal(probeJson({ duration: undefined })).code).toBe('MEDIA_NOT_MEDIA');
    expect(refusal(probeJson({ duration: 'N/A' })).code).toBe('MEDIA_NOT_MEDIA');
    expect(refusal(probeJson({ duration: '0.000000' })).code).toBe('MEDIA_NOT_MEDIA');
  });

  it('treats the undetermined language as none', () => {
    const info = parse(probeJson({ streams: [videoStream(), audioStream({ tags: { language: 'und' } }), audioStream({ index: 2, tags: {} })] }));
    expect(info.audio.map((a) => a.language)).toEqual([undefined, undefined]);
  });

  it('lists every audio stream with channels and skips those without', () => {
    const info = parse(probeJson({ streams: [videoStream(), audioStream(), audioStream({ index: 2, channels: 0 }), audioStream({ index: 3, channels: 6, sample_rate: '44100' })] }));
    expect(info.audio.map((a) => [a.index, a.channels, a.sampleRate])).toEqual([[1, 2, 48_000], [3, 6, 44_100]]);
  });

  it('applies an anamorphic sample aspect ratio to the display width', () => {
    const info = parse(probeJson({ streams: [videoStream({ width: 720, height: 576, sample_aspect_ratio: '4:3' })] }));
    expect(info.video).toMatchObject({ width: 720, height: 576, displayWidth: 960 });
  });

  it('treats an unknown sample aspect ratio as square pixels', () => {
    const info = parse(probeJson({ streams: [videoStream({ width: 720, height: 576, sample_aspect_ratio: '0:1' })] }));
    expect(info.video!.displayWidth).toBe(720);
  });
});

describe('looksLikePlaylist', () => {
  it.each(['#EXTM3U\n#EXT-X-VERSION:3', 'ffconcat version 1.0', '<?xml version="1.0"?><MPD>', '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">', "file 'a.mp4'", '\n  #EXTM3U'])(
    'recognises %j as a playlist',
    (text) => {
      expect(looksLikePlaylist(Buffer.from(text, 'latin1'))).toBe(true);
    },
  );

  it('does not mistake media for a playlist', () => {
    const mp4 = Buffer.from('\0\0\0\x20ftypisom\0\0\x02\0', 'latin1');
    const mkv = Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86]);
    expect(looksLikePlaylist(mp4)).toBe(false);
    expect(looksLikePlaylist(mkv)).toBe(false);
    expect(looksLikePlaylist(Buffer.alloc(0))).toBe(false);
    expect(looksLikePlaylist(Buffer.from('filename.mp4'))).toBe(false);
  });
});
