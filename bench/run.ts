// `npm run bench [name...]`: runs the named benchmarks (all by default) and prints their figures
// as JSON. Every request is validated before it is timed; a failure aborts the run.
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import { benchCoreLatency } from './core-latency.js';
import { benchNearSeeks, benchSeekPolicies } from './seek-policies.js';

const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  'core-latency': benchCoreLatency,
  'seek-policies': benchSeekPolicies,
  'near-seeks': benchNearSeeks,
};

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(BENCHES);
const results: Record<string, unknown> = {
  machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
  node: process.version,
  commit: execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(),
  date: new Date().toISOString(),
};
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) throw new Error(`no benchmark "${name}" (have: ${Object.keys(BENCHES).join(', ')})`);
  results[name] = await bench();
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
