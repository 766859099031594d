import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeekwellError } from '../../../src/errors.js';
import { fileBody, sendBytes } from '../../../src/http/send.js';

// Segments are streamed from a file opened before the response is made (issue 12, defect 3), so
// that file must be closed on every path: body sent, no body, refused range, client gone.

let scratch = '';
let file = '';
const BYTES = Buffer.alloc(3 * 1024 * 1024 + 7, 'abcdefghij');
const ETAG = '"seg-1"';

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'seekwell-send-'));
  file = join(scratch, 'video-720p-00001.m4s');
  await writeFile(file, BYTES);
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** True once the handle's descriptor is closed (FileHandle.fd is -1 then). */
async function closedSoon(handle: FileHandle): Promise<boolean> {
  for (let i = 0; i < 100 && handle.fd !== -1; i++) await sleep(10);
  return handle.fd === -1;
}

function sendFile(handle: FileHandle, init: RequestInit = {}, calls = { body: 0, discard: 0 }, signal?: AbortSignal): Response {
  const body = fileBody(handle, signal);
  return sendBytes({
    request: new Request('http://seekwell.test/segments/video-720p-00001.m4s', init),
    contentType: 'video/mp4',
    etag: ETAG,
    size: BYTES.length,
    body: (range) => {
      calls.body++;
      return body(range);
    },
    discard: () => {
      calls.discard++;
      void handle.close();
    },
  });
}

describe('fileBody', () => {
  it('streams the whole file from the open handle and closes it at the end', async () => {
    const handle = await open(file, 'r');
    const calls = { body: 0, discard: 0 };
    const response = sendFile(handle, {}, calls);
    expect(Buffer.from(await response.arrayBuffer()).equals(BYTES)).toBe(true);
    expect(calls).toEqual({ body: 1, discard: 0 });
    expect(await closedSoon(handle)).toBe(true);
  });

  it('streams a range from the open handle', async () => {
    const handle = await open(file, 'r');
    const response = sendFile(handle, { headers: { range: 'bytes=1048570-1048580' } });
    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer()).equals(BYTES.subarray(1048570, 1048581))).toBe(true);
    expect(await closedSoon(handle)).toBe(true);
  });

  it('closes the file when the server cancels the body (the socket closed)', async () => {
    const handle = await open(file, 'r');
    const reader = sendFile(handle).body!.getReader();
    await reader.read();
    await reader.cancel(new Error('socket closed'));
    expect(await closedSoon(handle)).toBe(true);
  });

  it('closes the file when the client leaves mid-stream', async () => {
    const handle = await open(file, 'r');
    const client = new AbortController();
    const reader = sendFile(handle, {}, undefined, client.signal).body!.getReader();
    await reader.read();
    client.abort(new Error('client went away'));
    expect(await closedSoon(handle)).toBe(true);
  });

  it('closes the file at once when the client left before the body was made', async () => {
    const handle = await open(file, 'r');
    sendFile(handle, {}, undefined, AbortSignal.abort(new Error('client went away')));
    expect(await closedSoon(handle)).toBe(true);
  });
});

describe('sendBytes without a body', () => {
  it.each([
    ['HEAD', { method: 'HEAD' }, 200],
    ['a matching If-None-Match', { headers: { 'if-none-match': ETAG } }, 304],
  ])('discards the open file for %s', async (_name, init, status) => {
    const handle = await open(file, 'r');
    const calls = { body: 0, discard: 0 };
    const response = sendFile(handle, init, calls);
    expect(response.status).toBe(status);
    expect(response.body).toBeNull();
    expect(calls).toEqual({ body: 0, discard: 1 });
    expect(await closedSoon(handle)).toBe(true);
  });

  it('discards the open file when the range is refused', async () => {
    const handle = await open(file, 'r');
    const calls = { body: 0, discard: 0 };
    let thrown: unknown;
    try {
      sendFile(handle, { headers: { range: `bytes=${BYTES.length}-` } }, calls);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as SeekwellError).code).toBe('RANGE_NOT_SATISFIABLE');
    expect(calls).toEqual({ body: 0, discard: 1 });
    expect(await closedSoon(handle)).toBe(true);
  });

  it('discards for an empty file', () => {
    let discarded = 0;
    const response = sendBytes({
      request: new Request('http://seekwell.test/x'), contentType: 'video/mp4', etag: ETAG, size: 0,
      body: () => {
        throw new Error('no body for an empty file');
      },
      discard: () => discarded++,
    });
    expect(response.status).toBe(200);
    expect(discarded).toBe(1);
  });
});
