// The standard `npm run bench` suite, in the order it runs (~15 minutes on 2 cores).
import { coldStartAndSeeks, manifests } from './latency.js';
import { encodeOverhead, naiveBaseline } from './overhead.js';
import type { Scenario } from './support.js';

export const SUITE: Record<string, Scenario> = {
  manifests,
  'cold-start-and-seeks': coldStartAndSeeks,
  'encode-overhead': encodeOverhead,
  'naive-baseline': naiveBaseline,
};
