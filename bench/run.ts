// `npm run bench`: runs every benchmark in turn and prints its figures as JSON.
import { benchCoreLatency } from './core-latency.js';

const results = { coreLatency: await benchCoreLatency() };
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
