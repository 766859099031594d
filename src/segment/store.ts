// One title's finished segments (shared by every session on the same file and settings, and by
// every server instance and restart on the same WORK_DIR): media segments on disk under their URL
// names, init segments served from memory and kept on disk too (the packager rewrites init.mp4 at
// EOF; the first complete one is the one served and kept). Opening indexes what an earlier
// process left. Requests for something not there yet share one wait per segment. A file that
// vanished from disk (a disk cleaner, another server evicting it) is found when it is opened and
// dropped, never served short.
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createLogger, type Logger } from '../log.js';
import { numberOf } from '../media/timeline.js';
import { segmentFileName } from './naming.js';
import { isMissing, readStoreFolder, segmentEtag, writeStoredInit, type FoundSegment } from './store-folder.js';

export interface StoredSegment {
  path: string;
  size: number;
  /** Strong validator: a segment's bytes never change once stored. */
  etag: string;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  /** Callers still waiting on it: when the last gives up, nobody waits for the key any more. */
  waiters: number;
}

/** Told of each segment this process moves in (not of those found on disk at open). */
export type OnStored = (renditionId: string, index: number, size: number) => void;

export interface SegmentStoreOptions {
  /**
   * This instance's own scratch folder, on WORK_DIR's file system: init segments are written
   * there, then renamed into the store. Without it they are kept in memory only.
   */
  tmpDir?: string;
  log?: Logger;
}

export class SegmentStore {
  /** The title's content key: source identity + encoding settings. */
  readonly key: string;
  readonly dir: string;
  readonly #segments = new Map<string, StoredSegment>();
  readonly #inits = new Map<string, Buffer>();
  readonly #waits = new Map<string, Deferred<StoredSegment | Buffer>>();
  readonly #onStored: OnStored;
  readonly #tmpDir: string | undefined;
  readonly #log: Logger;
  /** Init segments being written to disk: close() waits for them. */
  readonly #writing = new Set<Promise<void>>();
  /** Segments being moved in: a second copy arriving meanwhile is dropped. */
  readonly #putting = new Set<string>();
  #bytes = 0;
  #change: Deferred<void> | undefined;
  #opened = false;
  #closing: Promise<void> | undefined;

  constructor(key: string, dir: string, onStored: OnStored = () => {}, options: SegmentStoreOptions = {}) {
    this.key = key;
    this.dir = dir;
    this.#onStored = onStored;
    this.#tmpDir = options.tmpDir;
    this.#log = options.log ?? createLogger('silent');
  }

  /**
   * Makes the folder and indexes the whole segments and inits already in it (files that are not
   * whole are deleted). Resolves with the segments indexed, oldest first, for the budget to count.
   */
  async open(): Promise<FoundSegment[]> {
    if (this.#opened) return [];
    this.#opened = true;
    const found = await readStoreFolder(this.dir, this.#log);
    for (const [renditionId, bytes] of found.inits) if (!this.#inits.has(renditionId)) this.#inits.set(renditionId, bytes);
    const indexed = found.segments.filter((s) => !this.#segments.has(segmentKey(s.renditionId, s.index)));
    for (const { renditionId, index, path: file, size, etag } of indexed) {
      this.#segments.set(segmentKey(renditionId, index), { path: file, size, etag });
      this.#bytes += size;
    }
    return indexed;
  }

  get bytesOnDisk(): number {
    return this.#bytes;
  }

  getSegment(renditionId: string, index: number): StoredSegment | undefined {
    return this.#segments.get(segmentKey(renditionId, index));
  }

  getInit(renditionId: string): Buffer | undefined {
    return this.#inits.get(renditionId);
  }

  /** Content indexes of a rendition's segments on disk, ascending. */
  indexes(renditionId: string): number[] {
    return indexesOf(this.#segments.keys(), renditionId);
  }

  /** Content indexes of a rendition someone is waiting for, ascending. */
  waitingIndexes(renditionId: string): number[] {
    return indexesOf(this.#waits.keys(), renditionId);
  }

  /** Keeps the first init of a rendition (later ones are ignored), and writes it to disk. */
  setInit(renditionId: string, bytes: Buffer): void {
    if (this.#inits.has(renditionId)) return;
    this.#inits.set(renditionId, bytes);
    this.#settle(initKey(renditionId), bytes);
    if (this.#tmpDir === undefined) return;
    const writing = writeStoredInit(this.dir, this.#tmpDir, renditionId, bytes)
      .catch((error: unknown) => this.#log.warn('init segment not kept on disk', { renditionId, dir: this.dir, error }))
      .finally(() => this.#writing.delete(writing));
    this.#writing.add(writing);
  }

  /** Moves a complete segment file into the store; the first copy of a segment wins. */
  async putSegment(renditionId: string, index: number, file: string): Promise<void> {
    const key = segmentKey(renditionId, index);
    if (this.#segments.has(key) || this.#putting.has(key)) return;
    this.#putting.add(key);
    const target = path.join(this.dir, segmentFileName(renditionId, numberOf(index)));
    let info;
    let etag;
    try {
      await this.#moveIn(file, target);
      const handle = await open(target, 'r');
      try {
        info = await handle.stat();
        etag = await segmentEtag(handle, info.size);
      } finally {
        await handle.close();
      }
    } finally {
      this.#putting.delete(key);
    }
    const segment = { path: target, size: info.size, etag };
    this.#segments.set(key, segment);
    this.#bytes += info.size;
    this.#settle(key, segment);
    this.#onStored(renditionId, index, info.size);
    this.#notify();
  }

  // The store's folder may have been removed under us (a disk cleaner, a person): made again
  // once, then the move is retried.
  async #moveIn(file: string, target: string): Promise<void> {
    try {
      await rename(file, target);
    } catch (error) {
      if (!isMissing(error)) throw error;
      await mkdir(this.dir, { recursive: true });
      await rename(file, target);
    }
  }

  /**
   * Opens a stored segment's file for reading, so the bytes sent are the ones stored even if it
   * is evicted meanwhile. Undefined when the file is gone or no longer its stored size.
   */
  async openSegment(segment: StoredSegment): Promise<FileHandle | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(segment.path, 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      if ((await handle.stat()).size === segment.size) return handle;
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    await handle.close().catch(() => {});
    return undefined;
  }

  /**
   * Forgets a segment whose file is gone (nothing is deleted), so the next request makes it
   * again. False when `segment` is no longer the stored copy (already dropped, or evicted).
   */
  drop(renditionId: string, index: number, segment: StoredSegment): boolean {
    const key = segmentKey(renditionId, index);
    if (this.#segments.get(key) !== segment) return false;
    this.#segments.delete(key);
    this.#bytes -= segment.size;
    this.#notify();
    return true;
  }

  /** Removes a segment from disk (a response already streaming it keeps its open file). */
  async evict(renditionId: string, index: number): Promise<void> {
    const key = segmentKey(renditionId, index);
    const segment = this.#segments.get(key);
    if (!segment) return;
    this.#segments.delete(key);
    this.#bytes -= segment.size;
    await unlink(segment.path).catch(() => {});
  }

  /** True while a request waits for a segment or init of another rendition than `renditionId` that `counts`. */
  isOtherWaited(renditionId: string, counts: (renditionId: string) => boolean = () => true): boolean {
    for (const key of this.#waits.keys()) {
      const other = parseKey(key).renditionId;
      if (other !== renditionId && counts(other)) return true;
    }
    return false;
  }

  /** True while at least one request waits for this rendition's init segment. */
  isInitWaited(renditionId: string): boolean {
    return this.#waits.has(initKey(renditionId));
  }

  /** True while at least one request waits for this segment. */
  isWaited(renditionId: string, index: number): boolean {
    return this.#waits.has(segmentKey(renditionId, index));
  }

  waitForSegment(renditionId: string, index: number, signal: AbortSignal): Promise<StoredSegment> {
    const found = this.getSegment(renditionId, index);
    if (found) return Promise.resolve(found);
    return this.#wait(segmentKey(renditionId, index), signal) as Promise<StoredSegment>;
  }

  waitForInit(renditionId: string, signal: AbortSignal): Promise<Buffer> {
    const found = this.#inits.get(renditionId);
    if (found) return Promise.resolve(found);
    return this.#wait(initKey(renditionId), signal) as Promise<Buffer>;
  }

  /**
   * Fails the current waits of one rendition for segments matching `which` (its init too), or of
   * every rendition when none is named.
   */
  failWaits(error: Error, renditionId?: string, which: (index: number) => boolean = () => true): void {
    for (const [key, wait] of [...this.#waits]) {
      const parsed = parseKey(key);
      if (renditionId !== undefined && parsed.renditionId !== renditionId) continue;
      if (parsed.index !== undefined && !which(parsed.index)) continue;
      this.#waits.delete(key);
      wait.reject(error);
    }
    this.#notify();
  }

  /** Resolves at the next change: a segment stored or a wait ended. For decisions to revisit. */
  nextChange(signal: AbortSignal): Promise<void> {
    this.#change ??= deferred();
    this.#change.promise.catch(() => {});
    return abortable(this.#change.promise, signal);
  }

  #notify(): void {
    const change = this.#change;
    this.#change = undefined;
    change?.resolve();
  }

  /**
   * Fails every wait and lets the init writes under way finish; the files stay for the next
   * process. Idempotent, never rejects.
   */
  close(error: Error): Promise<void> {
    this.#closing ??= (async () => {
      this.failWaits(error);
      await Promise.all([...this.#writing]);
    })();
    return this.#closing;
  }

  #settle(key: string, value: StoredSegment | Buffer): void {
    const wait = this.#waits.get(key);
    if (!wait) return;
    this.#waits.delete(key);
    wait.resolve(value);
  }

  // All waiters of one key share one deferred; each gives up alone when its own signal aborts.
  #wait(key: string, signal: AbortSignal): Promise<StoredSegment | Buffer> {
    let wait = this.#waits.get(key);
    if (!wait) {
      wait = deferred();
      wait.promise.catch(() => {});
      this.#waits.set(key, wait);
    }
    const shared = wait;
    shared.waiters++;
    return abortable(shared.promise, signal).catch((error: unknown) => {
      if (--shared.waiters === 0 && this.#waits.get(key) === shared) {
        this.#waits.delete(key);
        this.#notify();
      }
      throw error;
    });
  }
}

function segmentKey(renditionId: string, index: number): string {
  return `${renditionId}:${index}`;
}

function initKey(renditionId: string): string {
  return `init:${renditionId}`;
}

function parseKey(key: string): { renditionId: string; index: number | undefined } {
  if (key.startsWith('init:')) return { renditionId: key.slice(5), index: undefined };
  const colon = key.lastIndexOf(':');
  return { renditionId: key.slice(0, colon), index: Number(key.slice(colon + 1)) };
}

function indexesOf(keys: Iterable<string>, renditionId: string): number[] {
  const prefix = `${renditionId}:`;
  return [...keys].filter((k) => k.startsWith(prefix)).map((k) => Number(k.slice(prefix.length))).sort((a, b) => a - b);
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, waiters: 0 };
}

/** Races a shared promise against one caller's signal without leaking listeners. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
