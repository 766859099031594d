// The standard `npm run bench` suite, in the order it runs.
import type { Scenario } from './support.js';

export const SUITE: Record<string, Scenario> = {};
