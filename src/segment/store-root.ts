// WORK_DIR/store: one folder per title key, shared by every server instance on the WORK_DIR and
// kept across restarts. Within a process there is one SegmentStore per key: two would index,
// count and evict the same files twice.
import { mkdir, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { StoreBudget } from './budget.js';
import type { FoundSegment } from './store-folder.js';
import { SegmentStore } from './store.js';

export interface StoreRootDeps {
  /** WORK_DIR/store. */
  root: string;
  /** This instance's own scratch folder (inits are written there, then renamed into a store). */
  tmpDir: string;
  budget: StoreBudget;
  metrics: Pick<Metrics, 'segmentsEncoded' | 'segmentsRestored'>;
  log: Logger;
}

interface Opened {
  store: SegmentStore;
  /** What was on disk, for the first opener to count; empty for everyone else. */
  found: FoundSegment[];
}

export class StoreRoot {
  readonly #deps: StoreRootDeps;
  readonly #stores = new Map<string, SegmentStore>();
  readonly #opening = new Map<string, Promise<Opened>>();
  #closing: Promise<void> | undefined;

  constructor(deps: StoreRootDeps) {
    this.#deps = deps;
  }

  get(key: string): SegmentStore | undefined {
    return this.#stores.get(key);
  }

  /** The title's store, opened (its folder indexed, its segments counted in the budget) once. */
  async open(key: string): Promise<SegmentStore> {
    const { store, found } = await this.#open(key);
    if (found.length > 0) void this.#deps.budget.restore(found.map((s) => ({ store, ...s, usedAtMs: s.mtimeMs })));
    return store;
  }

  /**
   * At start: opens every title folder (so the budget knows the bytes of titles nobody has asked
   * for yet), removes empty ones, then evicts down to the budget, oldest first.
   */
  async restore(): Promise<void> {
    const { root, budget, log } = this.#deps;
    await mkdir(root, { recursive: true });
    const started = Date.now();
    const found = [];
    for (const entry of await readdir(root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(root, entry.name);
      // Gone meanwhile, or empty: another instance may be filling it right now, so only rmdir
      // (which refuses a folder that is no longer empty) removes it.
      const names = await readdir(dir).catch(() => undefined);
      if (!names || (names.length === 0 && (await rmdir(dir).then(() => true, () => false)))) continue;
      const { store, found: segments } = await this.#open(entry.name);
      found.push(...segments.map((s) => ({ store, ...s, usedAtMs: s.mtimeMs })));
    }
    await budget.restore(found);
    log.info('segment store opened', { titles: this.#stores.size, segments: found.length, bytes: budget.bytes, ms: Date.now() - started });
  }

  /** Closes every store: waits fail, init writes under way finish, files stay. Never rejects. */
  close(error: Error): Promise<void> {
    this.#closing ??= Promise.all([...this.#stores.values()].map((s) => s.close(error))).then(() => {});
    return this.#closing;
  }

  #open(key: string): Promise<Opened> {
    const open = this.#stores.get(key);
    if (open) return Promise.resolve({ store: open, found: [] });
    const pending = this.#opening.get(key);
    if (pending) return pending.then(({ store }) => ({ store, found: [] }));
    const { root, tmpDir, budget, metrics, log } = this.#deps;
    const store: SegmentStore = new SegmentStore(key, path.join(root, key), (renditionId, index, size) => {
      metrics.segmentsEncoded.inc();
      budget.add(store, renditionId, index, size);
    }, { tmpDir, log: log.child({ title: key.slice(0, 8) }) });
    const opening = store.open().then((found) => {
      this.#stores.set(key, store);
      metrics.segmentsRestored.inc({}, found.length);
      return { store, found };
    });
    this.#opening.set(key, opening);
    void opening.finally(() => this.#opening.delete(key)).catch(() => {});
    return opening;
  }
}
