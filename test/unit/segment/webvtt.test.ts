import { describe, expect, it } from 'vitest';
import { parseWebVtt, renderWebVtt, renderWebVttSegment, shiftCues, type WebVttCue } from '../../../src/segment/webvtt.js';

const cue = (startSeconds: number, endSeconds: number, text: string, settings = ''): WebVttCue => ({ startSeconds, endSeconds, settings, text });

describe('parseWebVtt', () => {
  it('reads what ffmpeg writes: minutes-only timestamps, one blank line between cues', () => {
    const text = 'WEBVTT\n\n00:01.000 --> 00:02.500\nHello café\n\n00:03.000 --> 00:04.000\nSecond <i>line</i>\ntwo\n';
    expect(parseWebVtt(text)).toEqual([cue(1, 2.5, 'Hello café'), cue(3, 4, 'Second <i>line</i>\ntwo')]);
  });

  it('reads a hand-written file: BOM, CRLF, hours, cue ids, settings, NOTE/STYLE/REGION blocks', () => {
    const text = [
      '\uFEFFWEBVTT - a title', 'Kind: captions', '',
      'STYLE', '::cue { color: red }', '',
      'REGION', 'id:r1 width:40%', '',
      'NOTE a comment', 'that spans lines', '',
      'intro', '01:00:00.250 --> 01:00:01.000 align:start line:0', 'Late', '',
      'NOTE', '', 
      '42', '00:00:00.500 --> 00:00:01.000', 'Early', '',
    ].join('\r\n');
    expect(parseWebVtt(text)).toEqual([cue(0.5, 1, 'Early'), cue(3600.25, 3601, 'Late', 'align:start line:0')]);
  });

  it('skips malformed cues and keeps the rest', () => {
    const text = [
      'WEBVTT', '',
      '00:01.000 --> 00:00.500', 'ends before it starts', '',
      '00:61.000 --> 00:62.000', 'bad seconds', '',
      '1.5 --> 2.5', 'not a timestamp', '',
      'an id', 'no timing line', '',
      '00:02.000 --> 00:03.000', '',
      '00:04.000 --> 00:05.000', 'kept', '',
    ].join('\n');
    expect(parseWebVtt(text)).toEqual([cue(4, 5, 'kept')]);
  });

  it('reads cues from a file without the WEBVTT header and sorts them by start', () => {
    expect(parseWebVtt('00:00:05.000 --> 00:00:06.000\nb\n\n00:00:01.000 --> 00:00:02.000\na')).toEqual([cue(1, 2, 'a'), cue(5, 6, 'b')]);
  });

  it('starts a new cue at a timing line inside a cue payload, so no text contains -->', () => {
    const cues = parseWebVtt('WEBVTT\n\n00:01.000 --> 00:02.000\none\n00:03.000 --> 00:04.000\ntwo\n');
    expect(cues).toEqual([cue(1, 2, 'one'), cue(3, 4, 'two')]);
  });
});

describe('shiftCues', () => {
  it('moves every cue by the delta in whole milliseconds', () => {
    expect(shiftCues([cue(10.1, 10.2, 'a')], -10)).toEqual([cue(0.1, 0.2, 'a')]);
  });

  it('drops cues that end at or before 0 and clips one straddling 0', () => {
    const cues = [cue(1, 2, 'gone'), cue(2, 3, 'ends at 0'), cue(2.5, 4, 'straddles'), cue(5, 6, 'kept')];
    expect(shiftCues(cues, -3)).toEqual([cue(0, 1, 'straddles'), cue(2, 3, 'kept')]);
  });
});

describe('renderWebVtt', () => {
  it('writes hh:mm:ss.mmm from whole milliseconds, without float noise', () => {
    const text = renderWebVtt([cue(0.1 + 0.2, 3725.0049999, 'a', 'align:start')]);
    expect(text).toBe('WEBVTT\n\n00:00:00.300 --> 01:02:05.005 align:start\na\n');
  });

  it('collapses blank lines and escapes --> in cue text', () => {
    const text = renderWebVtt([cue(1, 2, 'one\n\n  \ntwo --> three\r\nfour')]);
    expect(text).toBe('WEBVTT\n\n00:00:01.000 --> 00:00:02.000\none\ntwo --&gt; three\nfour\n');
  });

  it('leaves out a cue whose text is empty', () => {
    expect(renderWebVtt([cue(1, 2, '\n \n'), cue(3, 4, 'x')])).toBe('WEBVTT\n\n00:00:03.000 --> 00:00:04.000\nx\n');
  });

  it('round-trips through parseWebVtt', () => {
    const cues = [cue(0, 0.001, 'a'), cue(1.5, 2.25, '<i>b</i>\nc', 'line:0 position:10%'), cue(7199.999, 7200, 'd')];
    expect(parseWebVtt(renderWebVtt(cues))).toEqual(cues);
  });
});

describe('renderWebVttSegment', () => {
  const cues = [cue(1, 2, 'in first'), cue(3.5, 4.5, 'straddles'), cue(2, 4, 'ends at 4'), cue(6, 8, 'later')];

  it('starts with the X-TIMESTAMP-MAP header', () => {
    const text = renderWebVttSegment(cues, { startSeconds: 0, endSeconds: 4 }, 900_000);
    expect(text.split('\n').slice(0, 2)).toEqual(['WEBVTT', 'X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000']);
  });

  it('puts a cue straddling a boundary in both segments with its original times', () => {
    const first = parseWebVtt(renderWebVttSegment(cues, { startSeconds: 0, endSeconds: 4 }, 0));
    const second = parseWebVtt(renderWebVttSegment(cues, { startSeconds: 4, endSeconds: 8 }, 0));
    expect(first.map((c) => c.text)).toEqual(['in first', 'ends at 4', 'straddles']);
    expect(second.map((c) => c.text)).toEqual(['straddles', 'later']);
    expect(second[0]).toEqual(cue(3.5, 4.5, 'straddles'));
  });

  it('leaves out a cue that ends exactly where the segment starts, or starts where it ends', () => {
    const texts = parseWebVtt(renderWebVttSegment(cues, { startSeconds: 2, endSeconds: 3.5 }, 0)).map((c) => c.text);
    expect(texts).toEqual(['ends at 4']);
  });

  it('writes a valid WebVTT file for a segment without cues', () => {
    const text = renderWebVttSegment(cues, { startSeconds: 100, endSeconds: 104 }, 126_000);
    expect(text).toBe('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n');
    expect(parseWebVtt(text)).toEqual([]);
  });
});
