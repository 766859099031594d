// `npm run bench [name...]`: runs the named scenarios (by default the standard suite, bounded to
// ~15 minutes on 2 cores), prints a table per scenario and writes bench/results/<date>-<commit>.json
// with the machine, Node, ffmpeg and packager versions. Every scenario validates its responses
// before it measures; any failure aborts the run.
import { execSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { benchAbr } from './abr.js';
import { benchCopy } from './copy.js';
import { benchCoreLatency } from './core-latency.js';
import { benchCorpus } from './corpus.js';
import { benchKeyFrames } from './keyframes.js';
import { benchLadder } from './ladder.js';
import { benchNearSeeks, benchSeekPolicies } from './seek-policies.js';
import { SUITE } from './suite.js';
import { formatTable, type ScenarioResult } from './support.js';

// Longer studies, run by name only (issue 3's seek-policy comparison takes ~20 minutes).
const EXTRAS: Record<string, () => Promise<Record<string, unknown>>> = {
  'core-latency': benchCoreLatency,
  corpus: benchCorpus,
  'seek-policies': benchSeekPolicies,
  'near-seeks': benchNearSeeks,
  ladder: benchLadder,
  abr: benchAbr,
  keyframes: benchKeyFrames,
  copy: benchCopy,
};

const version = (command: string): string => {
  try {
    return execSync(command, { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'unknown';
  }
};

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SUITE);
const commit = version('git rev-parse --short HEAD');
const results: Record<string, unknown> = {
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
  node: process.version,
  ffmpeg: version('ffmpeg -hide_banner -version'),
  packager: version('node_modules/shaka-packager/bin/packager-linux-x64 --version'),
  commit,
  date: new Date().toISOString(),
};
const started = Date.now();
for (const name of names) {
  const scenario = SUITE[name];
  const extra = EXTRAS[name];
  if (!scenario && !extra) throw new Error(`no scenario "${name}" (have: ${[...Object.keys(SUITE), ...Object.keys(EXTRAS)].join(', ')})`);
  process.stderr.write(`bench: ${name}…\n`);
  if (scenario) {
    const result: ScenarioResult = await scenario();
    results[name] = result;
    process.stdout.write(`\n## ${name}: ${result.question}\n${formatTable(result.headers, result.rows)}\n`);
  } else {
    const result = await extra!();
    results[name] = result;
    process.stdout.write(`\n## ${name}\n${JSON.stringify(result, null, 2)}\n`);
  }
}
results.durationSeconds = Math.round((Date.now() - started) / 1000);
const file = path.join('bench', 'results', `${new Date().toISOString().slice(0, 10)}-${commit}.json`);
await mkdir(path.dirname(file), { recursive: true });
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nwritten: ${file} (${results.durationSeconds} s)\n`);
