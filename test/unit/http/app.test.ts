import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SeekwellError } from '../../../src/errors.js';
import { createApp, type AppDeps } from '../../../src/http/app.js';
import { createLogger } from '../../../src/log.js';
import type { SessionRegistry } from '../../../src/session/registry.js';
import type { Session } from '../../../src/session/session.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const WAIT_MS = 300;

/** A session whose segments and inits never come: every wait ends only through its signal. */
function stalledSession(): { session: Session; close(reason: string): void; waits: AbortSignal[] } {
  const controller = new AbortController();
  const waits: AbortSignal[] = [];
  const never = (signal: AbortSignal): Promise<never> => {
    waits.push(signal);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  };
  const session = {
    id: 'stalled',
    signal: controller.signal,
    segment: (_r: string, _n: number, signal: AbortSignal) => never(signal),
    init: (_r: string, signal: AbortSignal) => never(signal),
  } as unknown as Session;
  return { session, waits, close: (reason) => controller.abort(new SeekwellError('SESSION_CLOSED', reason)) };
}

const BODY_MAX_BYTES = 4096;

function appFor(session: Session, registry: Partial<SessionRegistry> = {}): ReturnType<typeof createApp> {
  const deps = { get: () => session, ...registry } as unknown as AppDeps['registry'];
  return createApp({ registry: deps, listMedia: async () => [], metrics: async () => '', segmentWaitMs: WAIT_MS, bodyMaxBytes: BODY_MAX_BYTES, log: createLogger('silent') });
}

function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** The response, or 'no answer' if none came within `ms`. */
async function within(ms: number, response: Response | Promise<Response>): Promise<Response | 'no answer'> {
  return Promise.race([response, sleep(ms, 'no answer' as const)]);
}

describe('request waits', () => {
  // Regression (issue 12, defect 1): AbortSignal.timeout() inside AbortSignal.any() was
  // garbage-collected before it fired, and the request waited on past SEGMENT_WAIT_MS.
  it.each([
    ['segment', '/sessions/stalled/segments/video-720p-00001.m4s'],
    ['init', '/sessions/stalled/init/video-720p.mp4'],
  ])('answers a %s wait with 503 SEGMENT_TIMEOUT and Retry-After at SEGMENT_WAIT_MS, through forced GCs', async (_kind, url) => {
    const { session } = stalledSession();
    const started = Date.now();
    const pending = appFor(session).request(url);
    const collector = setInterval(gc, 20);
    gc();
    const response = await within(WAIT_MS + 1000, pending).finally(() => clearInterval(collector));
    const ms = Date.now() - started;
    expect(response).not.toBe('no answer');
    const answered = response as Response;
    expect(answered.status).toBe(503);
    expect(answered.headers.get('retry-after')).toBe('2');
    expect(((await answered.json()) as { code: string }).code).toBe('SEGMENT_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(WAIT_MS - 5);
    expect(ms).toBeLessThan(WAIT_MS + 400);
  });

  it('leaves no timer and no listener behind once a wait has settled', async () => {
    const { session, close } = stalledSession();
    const app = appFor(session);
    const before = activeTimeouts();
    const request = new Request('http://seekwell.test/sessions/stalled/segments/video-720p-00001.m4s');
    const pending = app.request(request);
    await sleep(10);
    expect(getEventListeners(session.signal, 'abort')).toHaveLength(1);
    expect(getEventListeners(request.signal, 'abort')).toHaveLength(1);
    close('deleted');
    expect((await pending).status).toBe(410);
    expect(getEventListeners(session.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(request.signal, 'abort')).toHaveLength(0);
    expect(activeTimeouts()).toBe(before);
  });

  it('ends the wait with the session, as 410 SESSION_CLOSED, well before SEGMENT_WAIT_MS', async () => {
    const { session, close } = stalledSession();
    const started = Date.now();
    const pending = appFor(session).request('/sessions/stalled/init/video-720p.mp4');
    await sleep(20);
    close('deleted');
    const response = await pending;
    expect(response.status).toBe(410);
    expect(((await response.json()) as { code: string }).code).toBe('SESSION_CLOSED');
    expect(Date.now() - started).toBeLessThan(WAIT_MS);
  });

  it('ends the wait when the client leaves, passing on the client\'s reason', async () => {
    const { session, waits } = stalledSession();
    const client = new AbortController();
    const pending = appFor(session).request(new Request('http://seekwell.test/sessions/stalled/segments/audio-00002.m4s', { signal: client.signal }));
    await sleep(10);
    const reason = new Error('client went away');
    client.abort(reason);
    await pending;
    expect(waits).toHaveLength(1);
    expect(waits[0]!.aborted).toBe(true);
    expect(waits[0]!.reason).toBe(reason);
  });

  it('starts the wait already ended when the session closed before the request', async () => {
    const { session, close, waits } = stalledSession();
    close('deleted');
    const response = await appFor(session).request('/sessions/stalled/segments/video-720p-00003.m4s');
    expect(response.status).toBe(410);
    expect(waits[0]!.aborted).toBe(true);
  });
});

describe('request bodies (issue 12, defect 5)', () => {
  const created: unknown[] = [];
  const app = appFor(stalledSession().session, {
    create: async (request: unknown) => {
      created.push(request);
      return { id: 'made' } as unknown as Session;
    },
  } as Partial<SessionRegistry>);

  /** A body stream offering `total` bytes in 64 KiB chunks; counts what the server pulled. */
  function offered(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
    let pulled = 0;
    const chunk = new Uint8Array(65_536).fill(0x20);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
    return { stream, pulled: () => pulled };
  }

  it('accepts a session request within BODY_MAX_BYTES', async () => {
    const response = await app.request('/api/sessions', { method: 'POST', body: JSON.stringify({ media: 'a.mp4', pad: 'x'.repeat(1000) }) });
    expect(response.status).toBe(201);
    expect(created).toHaveLength(1);
  });

  it('refuses a declared length over BODY_MAX_BYTES with 413 PAYLOAD_TOO_LARGE and Connection: close', async () => {
    const response = await app.request('/api/sessions', { method: 'POST', body: JSON.stringify({ media: 'x'.repeat(BODY_MAX_BYTES) }) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(response.headers.get('connection')).toBe('close');
  });

  it('stops reading a streamed body of no declared length once it passes BODY_MAX_BYTES (256 MB offered)', async () => {
    const body = offered(256 * 1024 * 1024);
    const response = await app.request('/api/sessions', { method: 'POST', body: body.stream, duplex: 'half', headers: { 'transfer-encoding': 'chunked' } } as RequestInit);
    expect(response.status).toBe(413);
    expect(body.pulled()).toBeLessThan(1024 * 1024);
    expect(created).toHaveLength(1);
  });
});
