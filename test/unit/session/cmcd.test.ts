import { describe, it, expect } from 'vitest';
import { type Cmcd, parseCmcd } from '../../../src/session/cmcd.js';

// A query-mode CMCD value as a player sends it, after the query string has been URL-decoded once.
const typical = 'bl=21300,br=3200,d=4004,nor="video-720p-00012.m4s",ot=v,sid="6e2fb550",su,tb=6000';

// Parses a value whose only open question is `nor`: with bl=1000 it always parses, so a lost
// parse (undefined) cannot pass for "no next index".
function withNor(nor: string): Cmcd | undefined {
  return parseCmcd(`bl=1000,nor="${nor}"`);
}

function nextAt(nextIndex: number | undefined): Cmcd {
  return { bufferSeconds: 1, nextIndex, startup: false };
}

describe('parseCmcd', () => {
  it('reads buffer length, next object and startup from a typical player value', () => {
    expect(parseCmcd(typical)).toEqual({ bufferSeconds: 21.3, nextIndex: 11, startup: true });
  });

  it('converts the buffer length from milliseconds to seconds', () => {
    expect(parseCmcd('bl=500')).toStrictEqual({ bufferSeconds: 0.5, nextIndex: undefined, startup: false });
    expect(parseCmcd('bl=0')).toStrictEqual({ bufferSeconds: 0, nextIndex: undefined, startup: false });
  });

  it('turns the next object\'s URL number into a zero-based content index', () => {
    expect(withNor('video-720p-00001.m4s')).toStrictEqual(nextAt(0));
    expect(withNor('audio-00120.m4s')).toStrictEqual(nextAt(119));
  });

  it('finds the segment name at the end of a relative or absolute path', () => {
    expect(withNor('../segments/audio-00003.m4s')).toStrictEqual(nextAt(2));
    expect(withNor('https://cdn.example/s/abc/segments/video-1080p-00040.m4s')).toStrictEqual(nextAt(39));
  });

  it('decodes a percent-encoded next object and drops its query string', () => {
    expect(withNor('video-720p-00012.m4s%3Fx%3D1')).toStrictEqual(nextAt(11));
    expect(withNor('..%2Fsegments%2Fvideo-720p-00012.m4s')).toStrictEqual(nextAt(11));
  });

  it('drops a plain query string after the segment name', () => {
    expect(withNor('video-720p-00012.m4s?token=abc&x=1')).toStrictEqual(nextAt(11));
  });

  it('leaves the next index undefined when the next object is not a media segment', () => {
    expect(withNor('video-720p.mp4')).toStrictEqual(nextAt(undefined));
    expect(withNor('manifest.mpd')).toStrictEqual(nextAt(undefined));
    expect(withNor('video-720p-00000.m4s')).toStrictEqual(nextAt(undefined));
    expect(withNor('video-720p-12.m4s')).toStrictEqual(nextAt(undefined));
    expect(withNor('')).toStrictEqual(nextAt(undefined));
  });

  it('leaves the next index undefined when there is no next object', () => {
    expect(parseCmcd('bl=21300,ot=v')).toStrictEqual({ bufferSeconds: 21.3, nextIndex: undefined, startup: false });
  });

  it('leaves the next index undefined for bad percent-encoding instead of throwing', () => {
    expect(() => parseCmcd('nor="video-720p-00012.m4s%E0%A4%A"')).not.toThrow();
    expect(withNor('video-720p-00012.m4s%E0%A4%A')).toStrictEqual(nextAt(undefined));
    expect(withNor('%zz/video-720p-00012.m4s')).toStrictEqual(nextAt(undefined));
  });

  it('reports startup only when su is present as a bare key', () => {
    expect(parseCmcd('bl=100,su')?.startup).toBe(true);
    expect(parseCmcd('su')?.startup).toBe(true);
    expect(parseCmcd('bl=100')?.startup).toBe(false);
    expect(parseCmcd('bl=100,su=false')?.startup).toBe(false);
    expect(parseCmcd('bl=100,sid="su"')?.startup).toBe(false);
  });

  it('does not split on commas inside quoted strings', () => {
    const cmcd = parseCmcd('cid="a,su,bl=5",nor="x,y/video-720p-00007.m4s",bl=8000');
    expect(cmcd).toEqual({ bufferSeconds: 8, nextIndex: 6, startup: false });
  });

  it('tolerates spaces around keys and values', () => {
    expect(parseCmcd(' bl = 2000 , su ')).toEqual({ bufferSeconds: 2, nextIndex: undefined, startup: true });
  });

  it('returns undefined for a missing or empty value', () => {
    expect(parseCmcd(undefined)).toBeUndefined();
    expect(parseCmcd('')).toBeUndefined();
  });

  it('returns undefined for a value over 2000 characters but accepts one of exactly 2000', () => {
    const head = 'bl=1000,sid="';
    const at2000 = `${head}${'a'.repeat(2000 - head.length - 1)}"`;
    expect(at2000).toHaveLength(2000);
    expect(parseCmcd(at2000)).toStrictEqual({ bufferSeconds: 1, nextIndex: undefined, startup: false });
    expect(parseCmcd(`${at2000},`)).toBeUndefined();
  });

  it('leaves the buffer length undefined when bl is not a whole number of milliseconds', () => {
    const noBuffer = { bufferSeconds: undefined, nextIndex: undefined, startup: false };
    expect(parseCmcd('bl=abc,su')).toStrictEqual({ ...noBuffer, startup: true });
    expect(parseCmcd('bl=-500')).toStrictEqual(noBuffer);
    expect(parseCmcd('bl=1.5')).toStrictEqual(noBuffer);
    expect(parseCmcd('bl="2000"')).toStrictEqual(noBuffer);
    expect(parseCmcd('bl=')).toStrictEqual(noBuffer);
    expect(parseCmcd('bl')).toStrictEqual(noBuffer);
  });
});
