import { access, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { abortable, SegmentStore } from '../../../src/segment/store.js';
import { box, initSegment, largeBox, mediaSegment } from '../../support/mp4-build.js';

let scratch = '';
let store: SegmentStore;

// Each test gets a scratch dir holding the store's dir and the "run" files it moves in.
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'seekwell-store-'));
  store = new SegmentStore('title-key', join(scratch, 'store'));
  await store.open();
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let fileSeq = 0;

// Writes a file outside the store, as a packager run would.
async function runFile(content: string): Promise<string> {
  const file = join(scratch, `run-${++fileSeq}.m4s`);
  await writeFile(file, content);
  return file;
}

async function runFileBytes(bytes: Buffer): Promise<string> {
  const file = join(scratch, `run-${++fileSeq}.m4s`);
  await writeFile(file, bytes);
  return file;
}

const never = (): AbortSignal => new AbortController().signal;

// A promise's settled state without waiting for it.
async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  const marker = Symbol('pending');
  return Promise.race([promise, Promise.resolve(marker)]).then(
    (value) => (value === marker ? 'pending' : 'resolved'),
    () => 'rejected',
  );
}

describe('SegmentStore', () => {
  it('moves a segment under its 1-based URL name', async () => {
    const file = await runFile('segment zero');
    await store.putSegment('video-720p', 0, file);
    const segment = store.getSegment('video-720p', 0);
    expect(segment?.path).toBe(join(store.dir, 'video-720p-00001.m4s'));
    expect(segment?.size).toBe('segment zero'.length);
    expect(await readFile(segment!.path, 'utf8')).toBe('segment zero');
    await expect(access(file)).rejects.toThrow();
  });

  it('lists stored content indexes per rendition, ascending and 0-based', async () => {
    for (const index of [9, 0, 2]) await store.putSegment('video-720p', index, await runFile(`v${index}`));
    await store.putSegment('audio-1', 4, await runFile('a4'));
    await store.putSegment('audio-1-6ch', 7, await runFile('s7'));
    expect(store.indexes('video-720p')).toEqual([0, 2, 9]);
    expect(store.indexes('audio-1')).toEqual([4]);
    expect(store.indexes('audio-1-6ch')).toEqual([7]);
    expect(store.indexes('video-480p')).toEqual([]);
  });

  it('counts the bytes on disk', async () => {
    expect(store.bytesOnDisk).toBe(0);
    await store.putSegment('video-720p', 0, await runFile('12345'));
    await store.putSegment('audio', 0, await runFile('123'));
    expect(store.bytesOnDisk).toBe(8);
  });

  it('gives each segment an ETag from its own bytes: equal segments alike wherever they were made, others not', async () => {
    const segment = (moofFill: number, mdatBytes: number): Buffer => Buffer.concat([
      box('styp', Buffer.from('msdh\0\0\0\0msdhmsix')), box('sidx', Buffer.alloc(32)), box('moof', box('mfhd', Buffer.alloc(8, moofFill))), box('mdat', Buffer.alloc(mdatBytes, 0x5a)),
    ]);
    const file = async (bytes: Buffer): Promise<string> => {
      const name = join(scratch, `run-${++fileSeq}.m4s`);
      await writeFile(name, bytes);
      return name;
    };
    await store.putSegment('video-720p', 0, await file(segment(1, 1000)));
    await store.putSegment('video-720p', 1, await file(segment(1, 1000)));
    await store.putSegment('video-720p', 2, await file(segment(2, 1000)));
    await store.putSegment('video-720p', 3, await file(segment(1, 1001)));
    const etag = (i: number): string => store.getSegment('video-720p', i)!.etag;
    expect(etag(0)).toMatch(/^"s-[A-Za-z0-9_-]{22}"$/);
    // The same bytes in another file (another node, another run): the same ETag.
    expect(etag(1)).toBe(etag(0));
    // Another fragment number in the moof, or another size: another ETag.
    expect(etag(2)).not.toBe(etag(0));
    expect(etag(3)).not.toBe(etag(0));
  });

  it('keeps the first copy of a segment and leaves a later copy where it was', async () => {
    await store.putSegment('video-720p', 3, await runFile('first'));
    const before = store.getSegment('video-720p', 3);
    const second = await runFile('second copy');
    await store.putSegment('video-720p', 3, second);
    expect(store.getSegment('video-720p', 3)).toEqual(before);
    expect(await readFile(before!.path, 'utf8')).toBe('first');
    expect(await readFile(second, 'utf8')).toBe('second copy');
    expect(store.bytesOnDisk).toBe('first'.length);
  });

  it('resolves a wait at once for a segment already stored', async () => {
    await store.putSegment('audio', 1, await runFile('x'));
    await expect(store.waitForSegment('audio', 1, never())).resolves.toBe(store.getSegment('audio', 1));
  });

  it('resolves every concurrent waiter of one segment with the same object', async () => {
    const waits = [1, 2, 3].map(() => store.waitForSegment('video-720p', 7, never()));
    expect(await stateOf(waits[0]!)).toBe('pending');
    await store.putSegment('video-720p', 7, await runFile('seven'));
    const results = await Promise.all(waits);
    expect(results[0]).toBe(store.getSegment('video-720p', 7));
    expect(results[1]).toBe(results[0]);
    expect(results[2]).toBe(results[0]);
  });

  it('does not resolve a waiter with another rendition or index', async () => {
    const wait = store.waitForSegment('video-720p', 1, never());
    await store.putSegment('audio', 1, await runFile('a'));
    await store.putSegment('video-720p', 2, await runFile('b'));
    expect(await stateOf(wait)).toBe('pending');
  });

  it('rejects only the waiter whose own signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('client went away');
    const leaving = store.waitForSegment('video-720p', 0, controller.signal);
    const staying = store.waitForSegment('video-720p', 0, never());
    controller.abort(reason);
    await expect(leaving).rejects.toBe(reason);
    await store.putSegment('video-720p', 0, await runFile('zero'));
    await expect(staying).resolves.toBe(store.getSegment('video-720p', 0));
  });

  it('serves the first init to current and later waiters and ignores later inits', async () => {
    const wait = store.waitForInit('video-720p', never());
    const first = Buffer.from('first init');
    store.setInit('video-720p', first);
    store.setInit('video-720p', Buffer.from('rewritten at EOF'));
    await expect(wait).resolves.toBe(first);
    expect(store.getInit('video-720p')).toBe(first);
    await expect(store.waitForInit('video-720p', never())).resolves.toBe(first);
    expect(store.getInit('audio')).toBeUndefined();
  });

  it('fails every wait, segments and inits alike', async () => {
    const error = new Error('pipeline failed');
    const waits = [store.waitForSegment('video-720p', 0, never()), store.waitForSegment('audio', 5, never()), store.waitForInit('audio', never())];
    store.failWaits(error);
    const results = await Promise.allSettled(waits);
    expect(results).toEqual(waits.map(() => ({ status: 'rejected', reason: error })));
    expect(store.waitingIndexes('video-720p')).toEqual([]);
    expect(store.waitingIndexes('audio')).toEqual([]);
  });

  it('lists waited content indexes of one rendition ascending, without init waits', async () => {
    void store.waitForSegment('video-720p', 12, never()).catch(() => {});
    void store.waitForSegment('video-720p', 3, never()).catch(() => {});
    void store.waitForSegment('video-360p', 5, never()).catch(() => {});
    void store.waitForInit('video-720p', never()).catch(() => {});
    expect(store.waitingIndexes('video-720p')).toEqual([3, 12]);
    expect(store.waitingIndexes('video-360p')).toEqual([5]);
    await store.putSegment('video-720p', 3, await runFile('three'));
    expect(store.waitingIndexes('video-720p')).toEqual([12]);
    store.failWaits(new Error('done'));
  });

  it('fails the waits of the one rendition named, its init included, and leaves the others waiting', async () => {
    const error = new Error('the 720p run failed');
    const failing = [store.waitForSegment('video-720p', 2, never()), store.waitForInit('video-720p', never())];
    const other = store.waitForSegment('video-360p', 2, never());
    store.failWaits(error, 'video-720p');
    expect(await Promise.allSettled(failing)).toEqual(failing.map(() => ({ status: 'rejected', reason: error })));
    expect(await stateOf(other)).toBe('pending');
    expect(store.waitingIndexes('video-360p')).toEqual([2]);
    store.failWaits(new Error('done'));
  });

  it('fails only the indexes `which` selects within the rendition named', async () => {
    const error = new Error('past the run');
    const early = store.waitForSegment('audio-1', 3, never());
    const late = store.waitForSegment('audio-1', 9, never());
    const init = store.waitForInit('audio-1', never());
    store.failWaits(error, 'audio-1', (index) => index >= 5);
    await expect(late).rejects.toBe(error);
    await expect(init).rejects.toBe(error);
    expect(await stateOf(early)).toBe('pending');
    expect(store.waitingIndexes('audio-1')).toEqual([3]);
    store.failWaits(new Error('done'));
  });

  it('keeps renditions whose ids share a prefix apart', async () => {
    await store.putSegment('audio-1-6ch', 0, await runFile('surround'));
    const stereo = store.waitForSegment('audio-1', 0, never());
    expect(store.indexes('audio-1')).toEqual([]);
    expect(await stateOf(stereo)).toBe('pending');
    store.failWaits(new Error('done'), 'audio-1');
    await expect(stereo).rejects.toThrow('done');
    expect(store.getSegment('audio-1-6ch', 0)).toBeDefined();
  });

  // Regression: a wait whose every waiter gave up stayed listed, so runs restarted for nobody.
  it('stops listing an index once its only waiter has given up', async () => {
    const controller = new AbortController();
    const wait = store.waitForSegment('video-720p', 8, controller.signal);
    controller.abort(new Error('client went away'));
    await expect(wait).rejects.toThrow('client went away');
    expect(store.waitingIndexes('video-720p')).toEqual([]);
  });

  it('keeps its files when closed, rejects waiters, and lets a later store find them', async () => {
    await store.putSegment('video-720p', 0, await runFile('zero'));
    const wait = store.waitForSegment('video-720p', 1, never());
    const error = new Error('server closing');
    const rejected = expect(wait).rejects.toBe(error);
    await store.close(error);
    await store.close(error);
    await rejected;
    expect(await readFile(join(store.dir, 'video-720p-00001.m4s'), 'utf8')).toBe('zero');
  });
});

describe('abortable', () => {
  it('rejects at once with the reason of an already-aborted signal', async () => {
    const reason = new Error('already gone');
    const promise = abortable(new Promise<never>(() => {}), AbortSignal.abort(reason));
    await expect(promise).rejects.toBe(reason);
  });

  it('resolves with the shared promise when the signal stays quiet', async () => {
    await expect(abortable(Promise.resolve(42), never())).resolves.toBe(42);
  });

  it('passes on the shared promise rejection', async () => {
    const error = new Error('shared failure');
    await expect(abortable(Promise.reject(error), never())).rejects.toBe(error);
  });

  it('rejects when the signal aborts first', async () => {
    const controller = new AbortController();
    const promise = abortable(new Promise<never>(() => {}), controller.signal);
    controller.abort(new Error('timeout'));
    await expect(promise).rejects.toThrow('timeout');
  });
});

// Regression (issue 12, defect 3): a stored segment whose file had vanished was served as a 200
// with the full Content-Length and no body, to every session, forever.
describe('SegmentStore: files gone from disk', () => {
  it('opens a stored segment whose bytes stay readable after it is evicted', async () => {
    await store.putSegment('video-720p', 0, await runFile('segment zero'));
    const handle = await store.openSegment(store.getSegment('video-720p', 0)!);
    expect(handle).toBeDefined();
    await store.evict('video-720p', 0);
    expect(await handle!.readFile('utf8')).toBe('segment zero');
    await handle!.close();
  });

  it('reports a segment whose file vanished as not openable, and drop() forgets it', async () => {
    await store.putSegment('video-720p', 0, await runFile('zero'));
    await store.putSegment('video-720p', 1, await runFile('one'));
    const segment = store.getSegment('video-720p', 0)!;
    await rm(segment.path);
    await expect(store.openSegment(segment)).resolves.toBeUndefined();
    expect(store.drop('video-720p', 0, segment)).toBe(true);
    expect(store.getSegment('video-720p', 0)).toBeUndefined();
    expect(store.indexes('video-720p')).toEqual([1]);
    expect(store.bytesOnDisk).toBe('one'.length);
    expect(store.drop('video-720p', 0, segment)).toBe(false);
    expect(store.bytesOnDisk).toBe('one'.length);
  });

  it('treats a file no longer its stored size as gone', async () => {
    await store.putSegment('audio', 2, await runFile('a whole segment'));
    const segment = store.getSegment('audio', 2)!;
    await writeFile(segment.path, 'cut');
    await expect(store.openSegment(segment)).resolves.toBeUndefined();
  });

  it('keeps a newer copy stored after the vanished one was dropped', async () => {
    await store.putSegment('video-720p', 4, await runFile('old'));
    const old = store.getSegment('video-720p', 4)!;
    await rm(old.path);
    store.drop('video-720p', 4, old);
    await store.putSegment('video-720p', 4, await runFile('made again'));
    const fresh = store.getSegment('video-720p', 4)!;
    expect(store.drop('video-720p', 4, old)).toBe(false);
    expect(store.getSegment('video-720p', 4)).toBe(fresh);
    const handle = (await store.openSegment(fresh))!;
    expect(await handle.readFile('utf8')).toBe('made again');
    await handle.close();
  });

  it('resolves a wait for the segment with the copy made again, and wakes pending decisions on drop', async () => {
    await store.putSegment('video-720p', 6, await runFile('six'));
    const segment = store.getSegment('video-720p', 6)!;
    await rm(segment.path);
    const change = store.nextChange(never());
    store.drop('video-720p', 6, segment);
    const noChange = new Promise((resolve) => setTimeout(() => resolve('no change'), 50));
    expect(await Promise.race([change.then(() => 'changed'), noChange])).toBe('changed');
    const wait = store.waitForSegment('video-720p', 6, never());
    expect(await stateOf(wait)).toBe('pending');
    await store.putSegment('video-720p', 6, await runFile('six again'));
    expect(await readFile((await wait).path, 'utf8')).toBe('six again');
  });

  it('stores segments again after its whole folder was removed', async () => {
    await store.putSegment('video-720p', 0, await runFile('zero'));
    await rm(store.dir, { recursive: true, force: true });
    await store.putSegment('video-720p', 1, await runFile('one'));
    expect(await readFile(store.getSegment('video-720p', 1)!.path, 'utf8')).toBe('one');
  });
});

// Issue 11, part 3: the store folder outlives the process, so a restarted server starts warm.
describe('SegmentStore: opening a folder an earlier process filled', () => {
  let dir = '';
  let tmp = '';
  let logged: Record<string, unknown>[] = [];

  beforeEach(() => {
    dir = join(scratch, 'kept');
    tmp = join(scratch, 'instance-tmp');
    logged = [];
  });

  function reopen(): SegmentStore {
    const log = createLogger('warn', (line) => logged.push(JSON.parse(line) as Record<string, unknown>));
    return new SegmentStore('title-key', dir, () => {}, { tmpDir: tmp, log });
  }

  async function put(name: string, bytes: Buffer | string, mtimeSeconds?: number): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, name), bytes);
    if (mtimeSeconds !== undefined) await utimes(join(dir, name), mtimeSeconds, mtimeSeconds);
  }

  it('indexes the whole segments already in its folder, with their sizes and ETags, oldest first', async () => {
    const video = mediaSegment(5000);
    const audio = mediaSegment(700);
    await put('video-720p-00002.m4s', video, 2_000_000_000);
    await put('audio-1-6ch-00001.m4s', audio, 1_000_000_000);
    const reopened = reopen();
    const found = await reopened.open();
    expect(found.map((s) => [s.renditionId, s.index, s.size])).toEqual([['audio-1-6ch', 0, audio.length], ['video-720p', 1, video.length]]);
    const segment = reopened.getSegment('video-720p', 1)!;
    expect(segment).toEqual({ path: join(dir, 'video-720p-00002.m4s'), size: video.length, etag: expect.stringMatching(/^"s-[A-Za-z0-9_-]{22}"$/) });
    // The ETag a store gives the same bytes when they are put in.
    await store.putSegment('video-720p', 1, await runFileBytes(video));
    expect(segment.etag).toBe(store.getSegment('video-720p', 1)!.etag);
    expect(reopened.indexes('video-720p')).toEqual([1]);
    expect(reopened.indexes('audio-1-6ch')).toEqual([0]);
    expect(reopened.bytesOnDisk).toBe(video.length + audio.length);
    expect(await reopened.waitForSegment('video-720p', 1, never())).toBe(segment);
    // Opening twice indexes nothing twice.
    expect(await reopened.open()).toEqual([]);
    expect(reopened.bytesOnDisk).toBe(video.length + audio.length);
  });

  it('accepts a segment with 64-bit box sizes', async () => {
    await put('video-720p-00001.m4s', Buffer.concat([box('moof'), largeBox('mdat', Buffer.alloc(300))]));
    const reopened = reopen();
    await reopened.open();
    expect(reopened.getSegment('video-720p', 0)?.size).toBe(8 + 16 + 300);
  });

  it('deletes a segment cut in the middle of its mdat, garbage under a segment name, and one without media, saying why', async () => {
    const whole = mediaSegment(4000);
    await put('video-720p-00001.m4s', whole);
    await put('video-720p-00002.m4s', whole.subarray(0, whole.length - 1500));
    await put('video-720p-00003.m4s', 'this is not an mp4 segment at all');
    await put('video-720p-00004.m4s', initSegment());
    await put('video-720p-00005.m4s', '');
    const reopened = reopen();
    await reopened.open();
    expect(reopened.indexes('video-720p')).toEqual([0]);
    expect(reopened.bytesOnDisk).toBe(whole.length);
    expect((await readdir(dir)).sort()).toEqual(['video-720p-00001.m4s']);
    const reasons = Object.fromEntries(logged.filter((r) => r.level === 'warn').map((r) => [String(r.path).slice(dir.length + 1), String(r.reason)]));
    expect(reasons).toEqual({
      'video-720p-00002.m4s': 'its "mdat" box ends 1500 bytes past the end of the file',
      'video-720p-00003.m4s': expect.stringContaining('past the end of the file'),
      'video-720p-00004.m4s': 'no moof box',
      'video-720p-00005.m4s': 'no moof box',
    });
  });

  it('loads a whole init file into memory and deletes a cut one', async () => {
    const init = initSegment();
    await put('init-video-720p.mp4', init);
    await put('init-audio-1.mp4', init.subarray(0, init.length - 10));
    const reopened = reopen();
    await reopened.open();
    expect(reopened.getInit('video-720p')).toEqual(init);
    expect(reopened.getInit('audio-1')).toBeUndefined();
    await expect(access(join(dir, 'init-audio-1.mp4'))).rejects.toThrow();
    expect(logged.some((r) => String(r.path).endsWith('init-audio-1.mp4'))).toBe(true);
    // A loaded init is the one served: a later one from a run is ignored.
    reopened.setInit('video-720p', initSegment(0x22));
    expect(reopened.getInit('video-720p')).toEqual(init);
  });

  it('leaves files and folders it does not know alone', async () => {
    const unknown = ['README.txt', 'text-1-00001.vtt', 'video-720p-1.m4s', 'video-720p.mp4', 'init-video-720p.mp4.1a2b.tmp'];
    for (const name of unknown) await put(name, 'not ours');
    await mkdir(join(dir, 'video-720p-00009.m4s'));
    const reopened = reopen();
    expect(await reopened.open()).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual([...unknown, 'video-720p-00009.m4s'].sort());
    expect(logged).toEqual([]);
  });

  it('writes the first init of a rendition into its folder, through its temp folder, and keeps later ones out', async () => {
    const writer = reopen();
    await writer.open();
    const first = initSegment(0x01);
    writer.setInit('video-720p', first);
    writer.setInit('video-720p', initSegment(0x02));
    await writer.close(new Error('closing'));
    expect(await readFile(join(dir, 'init-video-720p.mp4'))).toEqual(first);
    expect(await readdir(tmp)).toEqual([]);
    const reader = reopen();
    await reader.open();
    expect(reader.getInit('video-720p')).toEqual(first);
  });

  it('serves a segment from a reopened folder with the same ETag as before', async () => {
    const writer = reopen();
    await writer.open();
    const file = join(scratch, 'made.m4s');
    await writeFile(file, mediaSegment(900));
    await writer.putSegment('audio-1', 3, file);
    const reader = reopen();
    await reader.open();
    expect(reader.getSegment('audio-1', 3)).toEqual(writer.getSegment('audio-1', 3));
  });
});
