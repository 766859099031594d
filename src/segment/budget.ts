// WORK_DIR's byte budget (CACHE_MAX_BYTES) over every title's segments. Least recently used
// segments go first, except those a session is about to need (its window) or is waiting for.
import { LRUCache } from 'lru-cache';

export interface BudgetStore {
  /** Identifies the title the store belongs to. */
  readonly key: string;
  evict(renditionId: string, index: number): Promise<void>;
}

interface Entry {
  store: BudgetStore;
  renditionId: string;
  index: number;
  size: number;
}

/** A segment found on disk when its store opened, last used (as far as the disk can tell) at `usedAtMs`. */
export interface FoundEntry {
  store: BudgetStore;
  renditionId: string;
  index: number;
  size: number;
  usedAtMs: number;
}

export type IsPinned = (store: BudgetStore, renditionId: string, index: number) => boolean;

export class StoreBudget {
  #maxBytes: number;
  // Used as a recency-ordered map that sums sizes: eviction is ours (it must skip pinned
  // entries), so its own limit is never reached. (A `max` would preallocate that many slots.)
  readonly #entries = new LRUCache<string, Entry>({ maxSize: Number.MAX_SAFE_INTEGER, sizeCalculation: (e) => Math.max(1, e.size) });
  readonly #isPinned: IsPinned;
  readonly #onEvict: () => void;

  constructor(maxBytes: number, isPinned: IsPinned, onEvict: () => void = () => {}) {
    this.#maxBytes = maxBytes;
    this.#isPinned = isPinned;
    this.#onEvict = onEvict;
  }

  get bytes(): number {
    return this.#entries.calculatedSize;
  }

  /** CACHE_MAX_BYTES, or less once the disk proved smaller (limit(), shrink()). */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Lowers the budget (never raises it) and evicts down to it. */
  limit(maxBytes: number): Promise<void> {
    this.#maxBytes = Math.max(0, Math.min(this.#maxBytes, maxBytes));
    return this.enforce();
  }

  /**
   * The disk filled before the budget did: the budget becomes what is stored less `bytes`, and
   * segments are evicted down to it. Resolves with the bytes evicted (0: nothing could go).
   */
  async shrink(bytes: number): Promise<number> {
    const before = this.bytes;
    await this.limit(before - bytes);
    return before - this.bytes;
  }

  add(store: BudgetStore, renditionId: string, index: number, size: number): void {
    this.#entries.set(keyOf(store, renditionId, index), { store, renditionId, index, size });
    void this.enforce();
  }

  /**
   * Counts segments found on disk (left by an earlier process), least recently used first, then
   * evicts down to the budget. Resolves once the evicted files are removed.
   */
  restore(found: readonly FoundEntry[]): Promise<void> {
    for (const { store, renditionId, index, size } of [...found].sort((a, b) => a.usedAtMs - b.usedAtMs)) {
      this.#entries.set(keyOf(store, renditionId, index), { store, renditionId, index, size });
    }
    return this.enforce();
  }

  /** Marks a segment as just used (served). */
  touch(store: BudgetStore, renditionId: string, index: number): void {
    this.#entries.get(keyOf(store, renditionId, index));
  }

  /** Forgets one segment whose file is already gone: its bytes no longer count. */
  forget(store: BudgetStore, renditionId: string, index: number): void {
    this.#entries.delete(keyOf(store, renditionId, index));
  }

  /** Evicts least recently used, unpinned segments until the total is within the budget. */
  async enforce(): Promise<void> {
    if (this.bytes <= this.#maxBytes) return;
    const victims: Entry[] = [];
    let bytes = this.bytes;
    for (const key of this.#entries.rkeys()) {
      if (bytes <= this.#maxBytes) break;
      const entry = this.#entries.peek(key)!;
      if (this.#isPinned(entry.store, entry.renditionId, entry.index)) continue;
      victims.push(entry);
      bytes -= entry.size;
    }
    for (const entry of victims) {
      this.#entries.delete(keyOf(entry.store, entry.renditionId, entry.index));
      this.#onEvict();
    }
    await Promise.all(victims.map((e) => e.store.evict(e.renditionId, e.index)));
  }
}

function keyOf(store: BudgetStore, renditionId: string, index: number): string {
  return `${store.key}/${renditionId}/${index}`;
}
