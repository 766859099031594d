import { describe, it, expect } from 'vitest';
import { StoreBudget, type BudgetStore, type IsPinned } from '../../../src/segment/budget.js';

// A store that only records what the budget asked it to evict, as "rendition/index".
interface FakeStore extends BudgetStore {
  evicted: string[];
}

function fakeStore(key: string): FakeStore {
  const evicted: string[] = [];
  return {
    key,
    evicted,
    evict: async (renditionId, index) => {
      evicted.push(`${renditionId}/${index}`);
    },
  };
}

const nothingPinned: IsPinned = () => false;

// `add` starts enforcement without awaiting it; a second pass waits until it has finished.
async function settled(budget: StoreBudget): Promise<void> {
  await budget.enforce();
  await Promise.resolve();
}

describe('StoreBudget', () => {
  it('adds up the bytes of every segment', () => {
    const budget = new StoreBudget(1000, nothingPinned);
    const store = fakeStore('title');
    expect(budget.bytes).toBe(0);
    budget.add(store, 'video', 0, 100);
    budget.add(store, 'video', 1, 250);
    budget.add(store, 'audio', 0, 30);
    expect(budget.bytes).toBe(380);
  });

  it('evicts nothing while the total is under or exactly at the budget', async () => {
    let evictions = 0;
    const budget = new StoreBudget(300, nothingPinned, () => evictions++);
    const store = fakeStore('title');
    for (let i = 0; i < 3; i++) budget.add(store, 'video', i, 100);
    await settled(budget);
    expect(store.evicted).toEqual([]);
    expect(evictions).toBe(0);
    expect(budget.bytes).toBe(300);
  });

  it('evicts the least recently added segments first once over budget', async () => {
    const budget = new StoreBudget(300, nothingPinned);
    const store = fakeStore('title');
    for (let i = 0; i < 5; i++) budget.add(store, 'video', i, 100);
    await settled(budget);
    expect(store.evicted).toEqual(['video/0', 'video/1']);
    expect(budget.bytes).toBe(300);
  });

  it('keeps a touched segment and evicts the next least recently used one instead', async () => {
    const budget = new StoreBudget(300, nothingPinned);
    const store = fakeStore('title');
    for (let i = 0; i < 3; i++) budget.add(store, 'video', i, 100);
    budget.touch(store, 'video', 0);
    budget.add(store, 'video', 3, 100);
    await settled(budget);
    expect(store.evicted).toEqual(['video/1']);
  });

  it('ignores a touch for a segment it does not hold', async () => {
    const budget = new StoreBudget(100, nothingPinned);
    const store = fakeStore('title');
    budget.touch(store, 'video', 9);
    budget.add(store, 'video', 0, 100);
    await settled(budget);
    expect(budget.bytes).toBe(100);
    expect(store.evicted).toEqual([]);
  });

  it('never evicts a pinned segment and skips past it to older unpinned ones', async () => {
    const pinned = new Set(['video/0', 'video/2']);
    const budget = new StoreBudget(250, (_store, renditionId, index) => pinned.has(`${renditionId}/${index}`));
    const store = fakeStore('title');
    for (let i = 0; i < 4; i++) budget.add(store, 'video', i, 100);
    await settled(budget);
    expect(store.evicted).toEqual(['video/1', 'video/3']);
    expect(budget.bytes).toBe(200);
  });

  it('stays over budget rather than evict pinned segments', async () => {
    let evictions = 0;
    const budget = new StoreBudget(100, () => true, () => evictions++);
    const store = fakeStore('title');
    for (let i = 0; i < 4; i++) budget.add(store, 'video', i, 100);
    await settled(budget);
    expect(store.evicted).toEqual([]);
    expect(evictions).toBe(0);
    expect(budget.bytes).toBe(400);
  });

  it('evicts a segment once it is no longer pinned and the budget is enforced again', async () => {
    let pinned = true;
    const budget = new StoreBudget(100, () => pinned);
    const store = fakeStore('title');
    budget.add(store, 'video', 0, 100);
    budget.add(store, 'video', 1, 100);
    await settled(budget);
    expect(store.evicted).toEqual([]);
    pinned = false;
    await budget.enforce();
    expect(store.evicted).toEqual(['video/0']);
    expect(budget.bytes).toBe(100);
  });

  it('stops evicting as soon as the total is within budget', async () => {
    const budget = new StoreBudget(1000, nothingPinned);
    const store = fakeStore('title');
    budget.add(store, 'video', 0, 50);
    budget.add(store, 'video', 1, 50);
    budget.add(store, 'video', 2, 900);
    await settled(budget);
    expect(store.evicted).toEqual([]);
    // 1050 bytes: dropping the 50-byte segment 0 is enough, segment 1 stays.
    budget.add(store, 'video', 3, 50);
    await settled(budget);
    expect(store.evicted).toEqual(['video/0']);
    expect(budget.bytes).toBe(1000);
  });

  it('evicts several segments in one pass when one large segment overflows the budget', async () => {
    const budget = new StoreBudget(400, nothingPinned);
    const store = fakeStore('title');
    for (let i = 0; i < 4; i++) budget.add(store, 'video', i, 100);
    budget.add(store, 'video', 4, 250);
    await settled(budget);
    expect(store.evicted).toEqual(['video/0', 'video/1', 'video/2']);
    expect(budget.bytes).toBe(350);
  });

  it('calls onEvict once per evicted segment', async () => {
    let evictions = 0;
    const budget = new StoreBudget(200, nothingPinned, () => evictions++);
    const store = fakeStore('title');
    for (let i = 0; i < 6; i++) budget.add(store, 'video', i, 100);
    await settled(budget);
    expect(store.evicted).toHaveLength(4);
    expect(evictions).toBe(4);
  });

  it('does not evict the same segment twice when enforce runs again before the first pass ends', async () => {
    const budget = new StoreBudget(100, nothingPinned);
    const store = fakeStore('title');
    budget.add(store, 'video', 0, 100);
    budget.add(store, 'video', 1, 100);
    await Promise.all([budget.enforce(), budget.enforce()]);
    expect(store.evicted).toEqual(['video/0']);
  });

  it('orders segments from different stores together by recency', async () => {
    const budget = new StoreBudget(300, nothingPinned);
    const a = fakeStore('a');
    const b = fakeStore('b');
    budget.add(a, 'video', 0, 100);
    budget.add(b, 'video', 0, 100);
    budget.add(a, 'video', 1, 100);
    budget.touch(b, 'video', 0);
    budget.add(b, 'video', 1, 100);
    budget.add(a, 'video', 2, 100);
    await settled(budget);
    // Recency, oldest first: a/0, a/1, b/0 (touched), b/1, a/2.
    expect(a.evicted).toEqual(['video/0', 'video/1']);
    expect(b.evicted).toEqual([]);
  });

  it('counts segments found on disk least recently used first, and evicts down to the budget before resolving', async () => {
    const budget = new StoreBudget(250, nothingPinned);
    const a = fakeStore('a');
    const b = fakeStore('b');
    await budget.restore([
      { store: b, renditionId: 'video', index: 0, size: 100, usedAtMs: 3000 },
      { store: a, renditionId: 'video', index: 1, size: 100, usedAtMs: 2000 },
      { store: a, renditionId: 'audio', index: 0, size: 100, usedAtMs: 1000 },
    ]);
    expect(a.evicted).toEqual(['audio/0']);
    expect(b.evicted).toEqual([]);
    expect(budget.bytes).toBe(200);
    // What is made afterwards is more recent than anything found.
    budget.add(b, 'video', 1, 100);
    await settled(budget);
    expect(a.evicted).toEqual(['audio/0', 'video/1']);
  });

  it('keeps the same rendition and index of two stores apart', async () => {
    const budget = new StoreBudget(100, nothingPinned);
    const a = fakeStore('a');
    const b = fakeStore('b');
    budget.add(a, 'video', 0, 100);
    budget.add(b, 'video', 0, 100);
    await settled(budget);
    expect(a.evicted).toEqual(['video/0']);
    expect(b.evicted).toEqual([]);
    expect(budget.bytes).toBe(100);
  });

  it('passes the segment\'s own store to the pin check', async () => {
    const a = fakeStore('a');
    const b = fakeStore('b');
    const budget = new StoreBudget(100, (store) => store === a);
    budget.add(a, 'video', 0, 100);
    budget.add(b, 'video', 0, 100);
    budget.add(b, 'video', 1, 100);
    await settled(budget);
    expect(a.evicted).toEqual([]);
    expect(b.evicted).toEqual(['video/0', 'video/1']);
  });

  // A regression test: `add` once replaced the entry but added its size to the total again, so a
  // segment added twice was counted twice for good and the budget evicted too much.
  it('counts a segment added twice only once', () => {
    const budget = new StoreBudget(1000, nothingPinned);
    const store = fakeStore('title');
    budget.add(store, 'video', 0, 100);
    budget.add(store, 'video', 0, 100);
    expect(budget.bytes).toBe(100);
  });

  it('shrinks below what is stored when the disk fills, evicting the least recently used unpinned segments', async () => {
    const store = fakeStore('title');
    const budget = new StoreBudget(10_000, (_s, _r, index) => index === 0);
    for (let i = 0; i < 4; i++) budget.add(store, 'video', i, 100);
    await settled(budget);
    expect(await budget.shrink(150)).toBe(200);
    expect(store.evicted).toEqual(['video/1', 'video/2']);
    expect(budget.maxBytes).toBe(250);
    // The lowered budget holds: a new segment pushes the next one out.
    budget.add(store, 'video', 4, 100);
    await settled(budget);
    expect(store.evicted).toEqual(['video/1', 'video/2', 'video/3']);
  });

  it('frees nothing when everything stored is pinned, and limit() never raises the budget', async () => {
    const store = fakeStore('title');
    const budget = new StoreBudget(1000, () => true);
    budget.add(store, 'video', 0, 100);
    expect(await budget.shrink(500)).toBe(0);
    await budget.limit(5000);
    expect(budget.maxBytes).toBe(0);
  });
});
