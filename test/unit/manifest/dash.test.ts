import { describe, it, expect } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { renderMpd } from '../../../src/manifest/dash.js';
import { buildModel, copyTitleModel, ladderTitleModel } from '../../support/manifest-model.js';
import { segmentUrl } from '../../../src/segment/naming.js';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => name === 'AdaptationSet' || name === 'Representation',
});

// Parses the MPD back into plain objects whose attributes are strings.
function parseMpd(xml: string): { mpd: Node; sets: Node[] } {
  const doc = parser.parse(xml) as { MPD: Node & { Period: Node & { AdaptationSet: Node[] } } };
  return { mpd: doc.MPD, sets: doc.MPD.Period.AdaptationSet };
}

function representation(set: Node | undefined): Node {
  const reps = set?.['Representation'] as Node[] | undefined;
  expect(reps).toHaveLength(1);
  return reps![0]!;
}

// Expands a SegmentTemplate media attribute the way a DASH client does.
function expandTemplate(template: string, number: number): string {
  return template.replace(/\$Number(?:%0(\d+)d)?\$/g, (_, width: string | undefined) =>
    String(number).padStart(Number(width ?? 0), '0'),
  );
}

describe('renderMpd', () => {
  it('starts with an XML declaration and describes a static isoff-live presentation', () => {
    const xml = renderMpd(buildModel());
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const { mpd } = parseMpd(xml);
    expect(mpd['xmlns']).toBe('urn:mpeg:dash:schema:mpd:2011');
    expect(mpd['profiles']).toBe('urn:mpeg:dash:profile:isoff-live:2011');
    expect(mpd['type']).toBe('static');
    expect(mpd['mediaPresentationDuration']).toBe('PT40S');
    expect(mpd['minBufferTime']).toBe('PT2S');
    const period = mpd['Period'] as Node;
    expect(period['id']).toBe('0');
    expect(period['start']).toBe('PT0S');
  });

  it('describes the video adaptation set and its representation attribute by attribute', () => {
    const [video] = parseMpd(renderMpd(buildModel())).sets;
    expect(video).toMatchObject({
      id: '0',
      contentType: 'video',
      mimeType: 'video/mp4',
      segmentAlignment: 'true',
      startWithSAP: '1',
      maxWidth: '1280',
      maxHeight: '720',
      frameRate: '30',
    });
    const rep = representation(video);
    expect(rep['id']).toBe('video-720p');
    expect(rep['codecs']).toBe('avc1.64001f');
    // The 720p bitrate cap (3 Mbit/s) plus 10 % for the container.
    expect(rep['bandwidth']).toBe('3300000');
    expect(rep['width']).toBe('1280');
    expect(rep['height']).toBe('720');
    expect(rep['frameRate']).toBe('30');
    expect(rep['sar']).toBe('1:1');
  });

  it('describes the audio adaptation set with its language, label, role, sampling rate and channel layout', () => {
    const [, audio] = parseMpd(renderMpd(buildModel())).sets;
    expect(audio).toMatchObject({
      id: '1',
      contentType: 'audio',
      mimeType: 'audio/mp4',
      lang: 'en',
      segmentAlignment: 'true',
      startWithSAP: '1',
      selectionPriority: '2',
      Label: 'English',
      Role: { schemeIdUri: 'urn:mpeg:dash:role:2011', value: 'main' },
    });
    const rep = representation(audio);
    expect(rep['id']).toBe('audio-1');
    expect(rep['codecs']).toBe('mp4a.40.2');
    expect(rep['bandwidth']).toBe('140800');
    expect(rep['audioSamplingRate']).toBe('48000');
    expect(rep['AudioChannelConfiguration']).toEqual({
      schemeIdUri: 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011',
      value: '2',
    });
  });

  it('omits the lang attribute when the source language is unknown', () => {
    const [, audio] = parseMpd(renderMpd(buildModel({ audio: { language: undefined } }))).sets;
    expect(audio).toMatchObject({ contentType: 'audio' });
    expect(audio).not.toHaveProperty('lang');
  });

  it('gives every representation a segment template in the 90 kHz timescale offset by one segment', () => {
    const { sets } = parseMpd(renderMpd(buildModel()));
    for (const [set, id] of [[sets[0], 'video-720p'], [sets[1], 'audio-1']] as const) {
      expect(representation(set)['SegmentTemplate']).toEqual({
        timescale: '90000',
        duration: '360000',
        startNumber: '1',
        presentationTimeOffset: '360000',
        initialization: `init/${id}.mp4`,
        media: `segments/${id}-$Number%05d$.m4s`,
      });
    }
  });

  it('expands the media template for the first and last numbers to the segment URLs', () => {
    const model = buildModel({ durationSeconds: 119.967 });
    const { sets } = parseMpd(renderMpd(model));
    expect(sets.map((set) => set['contentType'])).toEqual(['video', 'audio']);
    for (const set of sets) {
      const rep = representation(set);
      const media = String((rep['SegmentTemplate'] as Node)['media']);
      const id = String(rep['id']);
      expect(expandTemplate(media, 1)).toBe(segmentUrl(id, 1));
      expect(expandTemplate(media, model.timeline.count)).toBe(segmentUrl(id, 30));
    }
  });

  it('leaves out the audio adaptation set when the model has no audio', () => {
    const { sets } = parseMpd(renderMpd(buildModel({ audio: false })));
    expect(sets).toHaveLength(1);
    expect(sets[0]?.['contentType']).toBe('video');
  });

  it('writes 29.97 fps as the reduced rational 30000/1001', () => {
    const [video] = parseMpd(renderMpd(buildModel({ frameRate: { num: 60000, den: 2002 } }))).sets;
    expect(video?.['frameRate']).toBe('30000/1001');
    expect(representation(video)['frameRate']).toBe('30000/1001');
  });

  it.each([
    [40, 'PT40S'],
    [119.967, 'PT1M59.967S'],
    [3723.5, 'PT1H2M3.5S'],
    [0.1 + 0.2, 'PT0.3S'],
    [60, 'PT1M'],
    [3600.05, 'PT1H0.05S'],
  ])('formats a %s s duration as %s', (durationSeconds, expected) => {
    const { mpd } = parseMpd(renderMpd(buildModel({ durationSeconds })));
    expect(mpd['mediaPresentationDuration']).toBe(expected);
  });

  it('escapes attribute values that contain XML metacharacters', () => {
    const xml = renderMpd(buildModel({ audio: { language: 'x"<&>' } }));
    expect(xml).toContain('lang="x&quot;&lt;&amp;&gt;"');
    expect(parseMpd(xml).sets[1]?.['lang']).toBe('x"<&>');
  });
});

describe('renderMpd with a base URL', () => {
  it('puts an absolute-path BaseURL before the Period so redirected clients resolve segments', () => {
    const { mpd } = parseMpd(renderMpd(buildModel(), { baseUrl: '/sessions/abc/' }));
    expect(mpd.BaseURL).toBe('/sessions/abc/');
  });

  it('has no BaseURL by default', () => {
    expect(parseMpd(renderMpd(buildModel())).mpd.BaseURL).toBeUndefined();
  });
});

describe('renderMpd for a title with a ladder, several audio tracks and subtitles', () => {
  const model = ladderTitleModel();
  const { sets } = parseMpd(renderMpd(model));
  const ofType = (type: string): Node[] => sets.filter((set) => set['contentType'] === type);

  it('lists every rendition exactly once', () => {
    const ids = sets.flatMap((set) => (set['Representation'] as Node[]).map((rep) => String(rep['id'])));
    expect(ids).toHaveLength(9);
    expect([...ids].sort()).toEqual(model.renditions.map((r) => r.id).sort());
  });

  it('holds the whole ladder in one video adaptation set, lowest first', () => {
    const [video, ...others] = ofType('video');
    expect(others).toEqual([]);
    expect((video!['Representation'] as Node[]).map((rep) => rep['id'])).toEqual(['video-360p', 'video-480p', 'video-720p', 'video-1080p']);
    expect(video).toMatchObject({ maxWidth: '1920', maxHeight: '1080' });
  });

  it('puts the default audio set first with Role main, and the others after it as alternates', () => {
    const audio = ofType('audio');
    expect(audio.map((set) => representation(set)['id'])).toEqual(['audio-2', 'audio-1', 'audio-2-6ch']);
    expect(audio.map((set) => (set['Role'] as Node)['value'])).toEqual(['main', 'alternate', 'alternate']);
    expect(audio.map((set) => set['selectionPriority'])).toEqual(['2', '1', '1']);
    expect(audio.map((set) => [set['lang'], set['Label']])).toEqual([['eng', 'English (stereo)'], ['fra', 'French'], ['eng', 'English (5.1)']]);
  });

  it('describes the 5.1 rendition with six channels at its own bandwidth', () => {
    const surround = ofType('audio').find((set) => representation(set)['id'] === 'audio-2-6ch');
    expect(representation(surround)).toMatchObject({ bandwidth: '422400', AudioChannelConfiguration: { value: '6' } });
  });

  it('serves each text rendition as one WebVTT file with its language', () => {
    const text = ofType('text');
    expect(text).toHaveLength(2);
    for (const set of text) expect(set['mimeType']).toBe('text/vtt');
    expect(text.map((set) => set['lang'])).toEqual(['eng', 'fr']);
    expect(text.map((set) => representation(set)['BaseURL'])).toEqual(['text/text-1.vtt', 'text/text-2.vtt']);
    expect(text.map((set) => (set['Role'] as Node)['value'])).toEqual(['subtitle', 'subtitle']);
    for (const set of text) expect(representation(set)).not.toHaveProperty('SegmentTemplate');
  });

  it('numbers the adaptation sets in order: video, audio, then text', () => {
    expect(sets.map((set) => [set['id'], set['contentType']])).toEqual([
      ['0', 'video'], ['1', 'audio'], ['2', 'audio'], ['3', 'audio'], ['4', 'text'], ['5', 'text'],
    ]);
  });
});

describe('renderMpd on a key-frame timeline (stream copy)', () => {
  const { sets } = parseMpd(renderMpd(copyTitleModel()));

  it('lists the segments of every representation in a SegmentTimeline instead of one duration', () => {
    for (const set of sets) {
      for (const rep of set['Representation'] as Node[]) {
        const template = rep['SegmentTemplate'] as Node;
        expect(template['duration']).toBeUndefined();
        expect(template['presentationTimeOffset']).toBe('360000');
        // 5.2 s = 468,000 ticks seven times from media time 360,000, then the 3.6 s tail.
        expect((template['SegmentTimeline'] as Node)['S']).toEqual([{ t: '360000', d: '468000', r: '6' }, { d: '324000' }]);
      }
    }
  });

  it('keeps the original\'s codecs string and size in the video set', () => {
    const original = (sets[0]!['Representation'] as Node[]).find((r) => r['id'] === 'original');
    expect(original).toMatchObject({ codecs: 'avc1.640028', width: '1920', height: '1080', sar: '1:1' });
  });

  it('still says one duration for a uniform title', () => {
    const { sets: uniform } = parseMpd(renderMpd(buildModel()));
    expect((representation(uniform[0]) ['SegmentTemplate'] as Node)['duration']).toBe('360000');
  });
});
