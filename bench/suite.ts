// The standard `npm run bench` suite, in the order it runs (~21-23 minutes on 2 cores).
import { concurrency } from './concurrency.js';
import { edge } from './edge.js';
import { coldStartAndSeeks, manifests } from './latency.js';
import { memory } from './memory.js';
import { overload } from './overload.js';
import { encodeOverhead, naiveBaseline } from './overhead.js';
import { startup } from './startup.js';
import { storm } from './storm.js';
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
  overload,
  storm,
  edge,
  memory,
};
