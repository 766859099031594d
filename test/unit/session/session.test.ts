import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { findRendition, planTitle, type EncodedRendition } from '../../../src/media/plan.js';
import { Metrics } from '../../../src/metrics.js';
import { StoreBudget } from '../../../src/segment/budget.js';
import { SegmentMemory } from '../../../src/segment/memory.js';
import { SegmentStore } from '../../../src/segment/store.js';
import { Session, type OpenSegment } from '../../../src/session/session.js';
import type { Title } from '../../../src/session/title.js';
import { mediaInfo, trackAnalysis } from '../../support/media-info.js';

// Session.segment hands out the segment's bytes from memory or its file already open (issue 12,
// defect 3): a stored segment whose file vanished (and is not in memory) is dropped from the store
// and the budget and made again. Most cases here keep nothing in memory, to test the disk path.

let scratch = '';
let store: SegmentStore;
let budget: StoreBudget;
let logged: Record<string, unknown>[];
let session: Session;
let titleCalls: number;

// A 40 s title of ten 4 s segments: video-720p and audio-1.
const info = mediaInfo();
const plan = planTitle(info, trackAnalysis(info), { segmentSeconds: 4, ladder: [720] });

// The parts of a Title a Session uses; `segment` behaves as Title's does: stored, or wait for it.
function fakeTitle(): Title {
  return {
    plan,
    windowSegments: 2,
    store,
    rendition: (id: string) => findRendition(plan, id),
    segment: (_viewer: unknown, rendition: EncodedRendition, index: number, signal: AbortSignal) => {
      titleCalls++;
      const stored = store.getSegment(rendition.id, index);
      return stored ? Promise.resolve(stored) : store.waitForSegment(rendition.id, index, signal);
    },
    detach: () => {},
  } as unknown as Title;
}

let fileSeq = 0;

async function produce(index: number, content: string, renditionId = 'video-720p'): Promise<void> {
  const file = join(scratch, `run-${++fileSeq}.m4s`);
  await writeFile(file, content);
  await store.putSegment(renditionId, index, file);
}

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'seekwell-session-'));
  budget = new StoreBudget(1 << 30, () => false);
  store = new SegmentStore('title-key', join(scratch, 'store'), (renditionId, index, size) => budget.add(store, renditionId, index, size));
  await store.open();
  logged = [];
  titleCalls = 0;
  const log = createLogger('warn', (line) => logged.push(JSON.parse(line) as Record<string, unknown>));
  session = new Session('s1', fakeTitle(), 0, { now: Date.now, metrics: new Metrics(), budget, memory: new SegmentMemory(0) }, log);
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const never = (): AbortSignal => new AbortController().signal;

/** The segment's bytes as text; an open file is closed after reading. */
async function textOf(segment: OpenSegment): Promise<string> {
  if (Buffer.isBuffer(segment.body)) return segment.body.toString('utf8');
  try {
    return await segment.body.readFile('utf8');
  } finally {
    await segment.body.close();
  }
}

describe('Session.segment', () => {
  it('resolves with the stored segment from memory when memory is on, and still serves those bytes once the file is gone', async () => {
    const log = createLogger('silent');
    const remembering = new Session('s2', fakeTitle(), 0, { now: Date.now, metrics: new Metrics(), budget, memory: new SegmentMemory(1 << 20) }, log);
    await produce(0, 'kept in memory');
    const first = await remembering.segment('video-720p', 1, never());
    expect(Buffer.isBuffer(first.body)).toBe(true);
    await rm(first.path);
    const again = await remembering.segment('video-720p', 1, never());
    expect(again.body).toBe(first.body);
    expect(await textOf(again)).toBe('kept in memory');
    expect(titleCalls).toBe(2);
  });

  it('resolves with the stored segment and its file open', async () => {
    await produce(0, 'segment one');
    const segment = await session.segment('video-720p', 1, never());
    expect(segment.size).toBe('segment one'.length);
    expect(await textOf(segment)).toBe('segment one');
  });

  it('drops a stored segment whose file vanished from the store and the budget, warns, and waits for it to be made again', async () => {
    await produce(0, 'first copy');
    await produce(1, 'another');
    const vanished = store.getSegment('video-720p', 0)!;
    await rm(vanished.path);
    expect(budget.bytes).toBe('first copy'.length + 'another'.length);

    const pending = session.segment('video-720p', 1, never());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.getSegment('video-720p', 0)).toBeUndefined();
    expect(store.waitingIndexes('video-720p')).toEqual([0]);
    expect(budget.bytes).toBe('another'.length);
    expect(logged).toEqual([expect.objectContaining({ level: 'warn', rendition: 'video-720p', segment: 1, path: vanished.path })]);
    expect(String(logged[0]!.msg)).toContain('gone');

    await produce(0, 'made again');
    const segment = await pending;
    expect(await textOf(segment)).toBe('made again');
    expect(titleCalls).toBe(2);
    expect(budget.bytes).toBe('made again'.length + 'another'.length);
  });

  it('gives up with the request\'s reason when the segment made again does not come in time', async () => {
    await produce(0, 'zero');
    await rm(store.getSegment('video-720p', 0)!.path);
    const controller = new AbortController();
    const pending = session.segment('video-720p', 1, controller.signal);
    const reason = new Error('timed out');
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
    expect(store.waitingIndexes('video-720p')).toEqual([]);
  });

  it('never sends a file cut short: it is made again too', async () => {
    await produce(0, 'the whole segment');
    await writeFile(store.getSegment('video-720p', 0)!.path, 'cut');
    const pending = session.segment('video-720p', 1, never());
    await new Promise((resolve) => setTimeout(resolve, 20));
    await produce(0, 'the whole segment, again');
    const segment = await pending;
    expect(await textOf(segment)).toBe('the whole segment, again');
    expect(await readFile(segment.path, 'utf8')).toBe('the whole segment, again');
  });

  // Each waiting request listens to the session's signal until it settles (issue 12, defect 1).
  it('lets any number of requests wait on its signal without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    const listeners = Array.from({ length: 50 }, () => () => {});
    for (const listener of listeners) session.signal.addEventListener('abort', listener);
    await new Promise((resolve) => setTimeout(resolve, 10));
    process.off('warning', onWarning);
    for (const listener of listeners) session.signal.removeEventListener('abort', listener);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});

describe('Session.segment by rendition and number', () => {
  it('serves URL number n of any encoded rendition from content index n - 1', async () => {
    await produce(9, 'last audio segment', 'audio-1');
    const segment = await session.segment('audio-1', 10, never());
    expect(await textOf(segment)).toBe('last audio segment');
  });

  it('refuses a rendition the title does not have, without asking the title for a segment', async () => {
    await expect(session.segment('audio', 1, never())).rejects.toMatchObject({ code: 'RENDITION_NOT_FOUND' });
    await expect(session.segment('video-1080p', 1, never())).rejects.toMatchObject({ code: 'RENDITION_NOT_FOUND' });
    expect(titleCalls).toBe(0);
  });

  it('refuses numbers outside the timeline: 0 and one past the last', async () => {
    await expect(session.segment('video-720p', 0, never())).rejects.toMatchObject({ code: 'SEGMENT_NOT_FOUND' });
    await expect(session.segment('video-720p', 11, never())).rejects.toMatchObject({ code: 'SEGMENT_NOT_FOUND' });
    expect(titleCalls).toBe(0);
  });
});
