// Watches one rendition's output directory of a run and reports each file the moment it is
// complete. Driven by inotify events (fs.watch), never by polling: Shaka writes segments in place
// in 64 KiB chunks, and the styp+sidx header predicts the final size exactly.
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isCompleteInit, readSegmentIndex, type SegmentIndex } from '../segment/mp4.js';

export interface WatchedSegment {
  /** The $Time$ in the file name: the segment's tfdt in the track timescale. */
  time: number;
  path: string;
  index: SegmentIndex;
}

export interface SegmentWatcherEvents {
  onInit(bytes: Buffer): void;
  onSegment(segment: WatchedSegment): void;
}

const SEGMENT_FILE = /^(\d+)\.m4s$/;
const HEADER_BYTES = 4096;

export class SegmentWatcher {
  readonly #dir: string;
  readonly #events: SegmentWatcherEvents;
  readonly #done = new Set<string>();
  readonly #checking = new Map<string, { again: boolean; done: Promise<void> }>();
  #initSeen = false;
  #watcher: FSWatcher | undefined;

  constructor(dir: string, events: SegmentWatcherEvents) {
    this.#dir = dir;
    this.#events = events;
  }

  start(): void {
    this.#watcher = watch(this.#dir, (_event, name) => {
      if (name) void this.#check(name.toString());
    });
    this.#watcher.on('error', () => this.close());
  }

  /** Looks at every file once more: called after the run has exited, to miss nothing. */
  async sweep(): Promise<void> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    await Promise.all(names.sort().map((name) => this.#check(name)));
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  // Serialises checks per file; an event arriving mid-check asks for one more check after it. The
  // promise is the file's check in flight: the sweep awaits it, so a fast run's last segment, seen
  // by an event moments before the exit, is not lost when the run's directory is removed after.
  #check(name: string): Promise<void> {
    if (this.#done.has(name)) return Promise.resolve();
    const inFlight = this.#checking.get(name);
    if (inFlight) {
      inFlight.again = true;
      return inFlight.done;
    }
    const state = { again: false, done: Promise.resolve() };
    this.#checking.set(name, state);
    state.done = (async () => {
      try {
        do {
          state.again = false;
          // A file that cannot be read now (removed, rewritten) is looked at again on its next event.
          if (await this.#inspect(name).catch(() => false)) this.#done.add(name);
        } while (state.again && !this.#done.has(name));
      } finally {
        this.#checking.delete(name);
      }
    })();
    return state.done;
  }

  async #inspect(name: string): Promise<boolean> {
    const file = path.join(this.#dir, name);
    if (name === 'init.mp4') return this.#inspectInit(file);
    const match = SEGMENT_FILE.exec(name);
    if (!match) return true;
    const handle = await open(file, 'r').catch(() => undefined);
    if (!handle) return false;
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
      const index = readSegmentIndex(buffer.subarray(0, bytesRead));
      if (!index) return false;
      const { size } = await handle.stat();
      if (size < index.expectedSize) return false;
      if (size === index.expectedSize) this.#events.onSegment({ time: Number(match[1]), path: file, index });
      return true;
    } finally {
      await handle.close();
    }
  }

  // The packager rewrites init.mp4 at EOF (mehd durations): only the first complete one counts.
  async #inspectInit(file: string): Promise<boolean> {
    if (this.#initSeen) return true;
    const handle = await open(file, 'r').catch(() => undefined);
    if (!handle) return false;
    try {
      const bytes = await handle.readFile();
      if (!isCompleteInit(bytes)) return false;
      this.#initSeen = true;
      this.#events.onInit(bytes);
      return true;
    } finally {
      await handle.close();
    }
  }
}
