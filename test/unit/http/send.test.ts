import { describe, it, expect } from 'vitest';
import { SeekwellError } from '../../../src/errors.js';
import { IMMUTABLE, parseRange, planReply, replyResponse, type RequestLike } from '../../../src/http/send.js';

// The SeekwellError parseRange throws, or a failed expectation when it does not throw.
function rangeError(header: string, size: number): SeekwellError {
  try {
    parseRange(header, size);
  } catch (error) {
    expect(error).toBeInstanceOf(SeekwellError);
    return error as SeekwellError;
  }
  throw new Error(`expected parseRange(${header}) to throw`);
}

describe('parseRange', () => {
  it.each([
    { header: undefined, expected: undefined },
    { header: '', expected: undefined },
    { header: 'bytes=0-', expected: { start: 0, end: 99 } },
    { header: 'bytes=10-19', expected: { start: 10, end: 19 } },
    { header: 'bytes=-100', expected: { start: 0, end: 99 } },
    { header: 'bytes=-30', expected: { start: 70, end: 99 } },
    { header: 'bytes=90-500', expected: { start: 90, end: 99 } },
    { header: 'bytes=99-99', expected: { start: 99, end: 99 } },
    { header: ' bytes=1-2 ', expected: { start: 1, end: 2 } },
    { header: 'Bytes=10-19', expected: { start: 10, end: 19 } },
    { header: 'BYTES=-30', expected: { start: 70, end: 99 } },
    { header: 'bytes=5-2', expected: undefined },
    { header: 'bytes=0-1,5-6', expected: undefined },
    { header: 'bytes=-', expected: undefined },
    { header: 'items=0-1', expected: undefined },
    { header: 'bytes=a-b', expected: undefined },
    { header: 'garbage', expected: undefined },
  ])('reads "$header" on 100 bytes as $expected', ({ header, expected }) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });

  it('refuses a range starting at or after the end with the size in the details', () => {
    for (const header of ['bytes=100-', 'bytes=150-']) {
      const error = rangeError(header, 100);
      expect(error.code).toBe('RANGE_NOT_SATISFIABLE');
      expect(error.details).toEqual({ size: 100 });
    }
  });

  it('refuses an empty suffix range', () => {
    expect(rangeError('bytes=-0', 100).code).toBe('RANGE_NOT_SATISFIABLE');
  });

  // Regression: a suffix range of an empty body is satisfiable (RFC 9110 14.1.1) but used to get 416.
  it('sends an empty body whole for a non-zero suffix range', () => {
    expect(parseRange('bytes=-500', 0)).toBeUndefined();
    expect(rangeError('bytes=0-', 0).code).toBe('RANGE_NOT_SATISFIABLE');
  });

  // Regression: the end used to be clamped before the end < start check, so this got a full 200.
  it('refuses a closed range wholly past the end instead of ignoring it', () => {
    expect(rangeError('bytes=150-160', 100).code).toBe('RANGE_NOT_SATISFIABLE');
  });
});

const BYTES = Buffer.from('0123456789abcdefghij');
const ETAG = '"abc-14"';

function requestLike(request: Request): RequestLike {
  return { method: request.method, header: (name) => request.headers.get(name) ?? undefined };
}

function send(headers: Record<string, string> = {}, method = 'GET'): Response {
  const request = new Request('http://seekwell.test/segments/video-720p-00001.m4s', { method, headers });
  return replyResponse(planReply(requestLike(request), { contentType: 'video/mp4', etag: ETAG, size: BYTES.length }), BYTES);
}

describe('planReply + replyResponse', () => {
  it('sends the whole body with length, ranges, validator and immutable caching', async () => {
    const response = send();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('20');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('etag')).toBe(ETAG);
    expect(response.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.has('content-range')).toBe(false);
    expect(await response.text()).toBe(BYTES.toString());
  });

  it('sends a single range as 206 with Content-Range', async () => {
    const response = send({ range: 'bytes=5-9' });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe('bytes 5-9/20');
    expect(response.headers.get('content-length')).toBe('5');
    expect(await response.text()).toBe('56789');
  });

  it('answers the open range ffmpeg sends with the whole body as 206', async () => {
    const response = send({ range: 'bytes=0-' });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe('bytes 0-19/20');
    expect(await response.text()).toBe(BYTES.toString());
  });

  it('answers 304 without a body when If-None-Match matches', async () => {
    const response = send({ 'if-none-match': ETAG });
    expect(response.status).toBe(304);
    expect(response.headers.get('etag')).toBe(ETAG);
    expect(response.body).toBeNull();
  });

  it('sends the full body when If-None-Match does not match', () => {
    expect(send({ 'if-none-match': '"other"' }).status).toBe(200);
  });

  it('ignores the range when If-Range names another validator', async () => {
    const response = send({ range: 'bytes=5-9', 'if-range': '"older"' });
    expect(response.status).toBe(200);
    expect(response.headers.has('content-range')).toBe(false);
    expect(await response.text()).toBe(BYTES.toString());
  });

  it('honours the range when If-Range matches', () => {
    expect(send({ range: 'bytes=5-9', 'if-range': ETAG }).status).toBe(206);
  });

  it('sends headers but no body for HEAD', () => {
    const response = send({}, 'HEAD');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('20');
    expect(response.body).toBeNull();
  });

  it('throws the unsatisfiable range for the error mapper', () => {
    expect(() => send({ range: 'bytes=20-' })).toThrow(SeekwellError);
  });
});

describe('replyResponse from memory', () => {
  it('copies the bytes so the body does not alias the stored buffer', async () => {
    const bytes = Buffer.from('abcd');
    const request = new Request('http://seekwell.test/x');
    const response = replyResponse(planReply(requestLike(request), { contentType: 'video/mp4', etag: ETAG, size: 4 }), bytes);
    bytes[0] = 0x7a;
    expect(await response.text()).toBe('abcd');
  });
});

describe('conditional requests', () => {
  const request = (inm: string): Request => new Request('http://x/seg', { headers: { 'If-None-Match': inm } });
  const sendWith = (inm: string): Response =>
    replyResponse(planReply(requestLike(request(inm)), { contentType: 'video/mp4', etag: '"abc"', size: BYTES.length }), BYTES);

  it.each(['"abc"', 'W/"abc"', '"zzz", "abc"', '*'])('answers 304 to If-None-Match %s', (inm) => {
    expect(sendWith(inm).status).toBe(304);
  });

  it('answers 200 when no listed tag matches', () => {
    expect(sendWith('"zzz", W/"yyy"').status).toBe(200);
  });
});
