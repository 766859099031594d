import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeekwellError } from '../../../src/errors.js';
import { planReply, replyResponse, writeReply, type RequestLike } from '../../../src/http/send.js';

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

// Stands for the route: the file is discarded by the caller when planning refuses the range.
function sendFile(handle: FileHandle, init: RequestInit = {}, signal?: AbortSignal): Response {
  const request = new Request('http://seekwell.test/segments/video-720p-00001.m4s', init);
  const like: RequestLike = { method: request.method, header: (name) => request.headers.get(name) ?? undefined };
  let reply;
  try {
    reply = planReply(like, { contentType: 'video/mp4', etag: ETAG, size: BYTES.length });
  } catch (error) {
    void handle.close();
    throw error;
  }
  return replyResponse(reply, handle, signal);
}

describe('replyResponse from an open file', () => {
  it('streams the whole file from the open handle and closes it at the end', async () => {
    const handle = await open(file, 'r');
    const response = sendFile(handle, {});
    expect(Buffer.from(await response.arrayBuffer()).equals(BYTES)).toBe(true);
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
    const reader = sendFile(handle, {}, client.signal).body!.getReader();
    await reader.read();
    client.abort(new Error('client went away'));
    expect(await closedSoon(handle)).toBe(true);
  });

  it('closes the file at once when the client left before the body was made', async () => {
    const handle = await open(file, 'r');
    sendFile(handle, {}, AbortSignal.abort(new Error('client went away')));
    expect(await closedSoon(handle)).toBe(true);
  });
});

describe('replyResponse without a body', () => {
  it.each([
    ['HEAD', { method: 'HEAD' }, 200],
    ['a matching If-None-Match', { headers: { 'if-none-match': ETAG } }, 304],
  ])('closes the open file for %s', async (_name, init, status) => {
    const handle = await open(file, 'r');
    const response = sendFile(handle, init);
    expect(response.status).toBe(status);
    expect(response.body).toBeNull();
    expect(await closedSoon(handle)).toBe(true);
  });

  it('closes the open file when the range is refused', async () => {
    const handle = await open(file, 'r');
    let thrown: unknown;
    try {
      sendFile(handle, { headers: { range: `bytes=${BYTES.length}-` } });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as SeekwellError).code).toBe('RANGE_NOT_SATISFIABLE');
    expect(await closedSoon(handle)).toBe(true);
  });

  it('plans no body for an empty file', () => {
    const reply = planReply({ method: 'GET', header: () => undefined }, { contentType: 'video/mp4', etag: ETAG, size: 0 });
    expect(reply.status).toBe(200);
    expect(reply.range).toBeUndefined();
  });
});

// The server's own path: bytes written to node's response.
describe('writeReply', () => {
  let server: Server;
  let port = 0;
  let next: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void = () => {};

  beforeEach(async () => {
    server = createServer((req, res) => next(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function serve(body: () => Buffer | FileHandle): void {
    next = (req, res) => {
      const like: RequestLike = { method: req.method ?? 'GET', header: (name) => req.headers[name] as string | undefined };
      writeReply(res, planReply(like, { contentType: 'video/mp4', etag: ETAG, size: BYTES.length }), body());
    };
  }

  it.each([
    ['whole', {}, 200, BYTES],
    ['a range', { range: 'bytes=1048570-1048580' }, 206, BYTES.subarray(1048570, 1048581)],
  ])('sends %s from memory and from an open file, which it closes', async (_name, headers, status, expected) => {
    serve(() => BYTES);
    const fromMemory = await fetch(`http://127.0.0.1:${port}/`, { headers });
    expect(fromMemory.status).toBe(status);
    expect(Buffer.from(await fromMemory.arrayBuffer()).equals(expected)).toBe(true);
    const handle = await open(file, 'r');
    serve(() => handle);
    const fromFile = await fetch(`http://127.0.0.1:${port}/`, { headers });
    expect(fromFile.status).toBe(status);
    expect(fromFile.headers.get('access-control-allow-origin')).toBe('*');
    expect(Buffer.from(await fromFile.arrayBuffer()).equals(expected)).toBe(true);
    expect(await closedSoon(handle)).toBe(true);
  });

  it('closes the open file for HEAD and 304', async () => {
    for (const init of [{ method: 'HEAD' }, { headers: { 'if-none-match': ETAG } }]) {
      const handle = await open(file, 'r');
      serve(() => handle);
      const response = await fetch(`http://127.0.0.1:${port}/`, init);
      expect(await response.arrayBuffer()).toHaveProperty('byteLength', 0);
      expect(await closedSoon(handle)).toBe(true);
    }
  });

  it('closes the open file when the client leaves mid-stream', async () => {
    const big = join(scratch, 'big.m4s');
    await writeFile(big, Buffer.alloc(64 * 1024 * 1024, 1));
    const handle = await open(big, 'r');
    next = (_req, res) => writeReply(res, planReply({ method: 'GET', header: () => undefined }, { contentType: 'video/mp4', etag: ETAG, size: 64 * 1024 * 1024 }), handle);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ port, host: '127.0.0.1', path: '/' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (error) => (error.message.includes('socket hang up') ? resolve() : reject(error)));
      req.end();
    });
    expect(await closedSoon(handle)).toBe(true);
  });
});
