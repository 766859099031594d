// The standard `npm run bench` suite, in the order it runs (~13-15 minutes on 2 cores).
import { concurrency } from './concurrency.js';
import { coldStartAndSeeks, manifests } from './latency.js';
import { memory } from './memory.js';
import { encodeOverhead, naiveBaseline } from './overhead.js';
import { startup } from './startup.js';
import type { Scenario } from './support.js';
import { warmServing } from './warm-serving.js';

export const SUITE: Record<string, Scenario> = {
  'warm-serving': warmServing,
  manifests,
  'cold-start-and-seeks': coldStartAndSeeks,
  startup,
  'encode-overhead': encodeOverhead,
  'naive-baseline': naiveBaseline,
  concurrency,
  memory,
};
