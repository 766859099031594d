// Question (issue 9, item 2): to make an H.264 ladder (360p, 480p, 720p, 1080p) lazily, should each
// rendition be its own ffmpeg (A: every process decodes the source) or one ffmpeg that decodes once
// into several encodes (B: split -> N scaled encodes)? On a 1080p25 source, on this machine:
// 1. CPU seconds (ffmpeg's user+sys) per 4 s segment: each rung alone, the four rungs as four
//    concurrent processes (A), the four in one process (B), decoding alone (what B saves), and
//    720p+360p in one process (what keeping 360p on beside a watched 720p costs B);
// 2. the wait for the first complete 360p segment when a 720p viewer switches at segment 10: A starts
//    one 360p process (-ss before -i, as the server does), alone or beside the running 720p one; B
//    restarts its process with the new set of outputs (720p+360p, or the whole ladder), or had been
//    encoding 360p all along (no wait; its CPU is stated instead);
// 3. realtime speed (content seconds / wall seconds) of each.
// Everything is validated on a short run first (every output exists, is non-empty and is H.264 High
// at its rung's size with the expected frame count); measured runs are checked again after. A and B
// alternate (ABAB...) over the rounds; ratios are taken within a round, medians reported. Video only:
// the one AAC track is the same in both models.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { BENCH_DIR, formatTable, median, round, summary } from './support.js';

const D = 4;
const FPS = 25;
const SOURCE_SECONDS = 60;
const MEASURE_SECONDS = 12; // 3 segments per CPU run: 3 rounds fit in ~5 minutes on 2 cores
const ROUNDS = 3;
const SWITCH_AT = 10; // k: the switch lands on content 40 s

interface Rung { name: string; width: number; height: number; capK: number }
const RUNGS: Rung[] = [
  { name: '360p', width: 640, height: 360, capK: 800 },
  { name: '480p', width: 854, height: 480, capK: 1400 },
  { name: '720p', width: 1280, height: 720, capK: 3000 },
  { name: '1080p', width: 1920, height: 1080, capK: 6000 },
];
const rung = (name: string): Rung => RUNGS.find((r) => r.name === name)!;
const PAIR = [rung('360p'), rung('720p')]; // what a B process makes around a 720p -> 360p switch

// 1920x1080 25 fps testsrc2 under temporal noise (noise=alls=12:allf=t, like film grain) so x264 and
// the decoder both work as on real footage; x264 superfast High, CRF 20 capped at 15 Mbit/s (a
// Blu-ray-like bitrate), x264's default 250-frame GOP; a 440 Hz tone as AAC. Made once, then reused.
async function makeLadderSource(): Promise<string> {
  const target = path.join(BENCH_DIR, 'media', 'ladder-1080p25-grain.mp4');
  if (await stat(target).then((s) => s.size > 0, () => false)) return target;
  await execa('mkdir', ['-p', path.dirname(target)]);
  await execa('ffmpeg', ['-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${FPS}:duration=${SOURCE_SECONDS},noise=alls=12:allf=t`,
    '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${SOURCE_SECONDS}`,
    '-c:v', 'libx264', '-preset', 'superfast', '-crf', '20', '-maxrate', '15M', '-bufsize', '30M', '-profile:v', 'high',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-ac', '2', `${target}.partial.mp4`]);
  await execa('mv', [`${target}.partial.mp4`, target]);
  return target;
}

// The server's per-rendition x264 settings, with key frames on the 4 s grid of this run.
function encodeArgs(r: Rung, seconds: number): string[] {
  const keys = Array.from({ length: Math.ceil(seconds / D) }, (_, i) => i * D).join(',');
  return ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-maxrate', `${r.capK}k`, '-bufsize', `${2 * r.capK}k`,
    '-profile:v', 'high', '-bf', '0', '-pix_fmt', 'yuv420p', '-force_key_frames', keys, '-sc_threshold', '0', '-g', '100'];
}

interface Job { src: string; from: number; seconds: number }
const input = (job: Job): string[] => ['-nostdin', '-v', 'error', '-y', '-ss', String(job.from), '-t', String(job.seconds), '-i', job.src];
const tsFile = (file: string): string[] => ['-f', 'mpegts', file];
// Segment k of a run is complete when the muxer opens file k+1: the key frame at (k+1)·D has arrived.
const tsSegments = (pattern: string): string[] => ['-f', 'segment', '-segment_time', String(D), '-segment_format', 'mpegts', pattern];

/** A: one rendition per process, scaled from its own decode. */
function renditionArgs(job: Job, r: Rung, output: string[]): string[] {
  return [...input(job), '-map', '0:v:0', '-vf', `scale=-2:${r.height}`, ...encodeArgs(r, job.seconds), ...output];
}

/** B: one decode, split into one scaled encode per rung. */
function ladderArgs(job: Job, rungs: Rung[], outputs: string[][]): string[] {
  const graph = `[0:v]split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join('')};${rungs.map((r, i) => `[s${i}]scale=-2:${r.height}[o${i}]`).join(';')}`;
  return [...input(job), '-filter_complex', graph, ...rungs.flatMap((r, i) => ['-map', `[o${i}]`, ...encodeArgs(r, job.seconds), ...outputs[i]!])];
}

const decodeArgs = (job: Job): string[] => [...input(job), '-map', '0:v:0', '-f', 'null', '-'];

interface Run { wallS: number; cpuS: number }

// ffmpeg under sh, whose `times` prints its children's user+sys from the wait (every ffmpeg thread
// included; node's process.cpuUsage() sees only node). POSIX, so no extra package; fails on exit != 0.
async function timedFfmpeg(args: string[]): Promise<Run> {
  const start = performance.now();
  const { stdout } = await execa('sh', ['-c', '"$@"; status=$?; times; exit $status', 'sh', 'ffmpeg', ...args]);
  const wallS = (performance.now() - start) / 1000;
  const [user, sys] = [...(stdout.trim().split('\n').at(-1) ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (user === undefined || sys === undefined) throw new Error(`no CPU times from sh: ${stdout}`);
  return { wallS, cpuS: user + sys };
}

// Throws unless `file` is a non-empty H.264 High stream at the rung's size with `frames` frames.
async function checkOutput(file: string, r: Rung, frames: number): Promise<void> {
  const bytes = await stat(file).then((s) => s.size, () => 0);
  const { stdout } = bytes > 0
    ? await execa('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=codec_name,profile,width,height,nb_read_packets', '-of', 'json', file])
    : { stdout: '{}' };
  const s = (JSON.parse(stdout) as { streams?: Record<string, unknown>[] }).streams?.[0];
  const ok = s?.codec_name === 'h264' && s.profile === 'High' && s.width === r.width && s.height === r.height && Number(s.nb_read_packets) === frames;
  if (!ok) throw new Error(`${file}: expected ${bytes > 0 ? '' : 'a non-empty '}h264 High ${r.width}x${r.height}, ${frames} frames; got ${JSON.stringify(s ?? {})}`);
}

interface Measure { run: (tag: string) => Promise<Run>; check: (tag: string) => Promise<void> }

// The CPU/speed variants over MEASURE_SECONDS from 0, each writing into `dir` under its tag.
function cpuVariants(src: string, dir: string, seconds: number): Record<string, Measure> {
  const job = { src, from: 0, seconds };
  const file = (tag: string, r: Rung): string => path.join(dir, `${tag}-${r.name}.ts`);
  const checkAll = (tag: string, rungs: Rung[]): Promise<void[]> => Promise.all(rungs.map((r) => checkOutput(file(tag, r), r, seconds * FPS)));
  const variants: Record<string, Measure> = {
    'A: 4 processes': {
      run: async (tag) => {
        const runs = await Promise.all(RUNGS.map((r) => timedFfmpeg(renditionArgs(job, r, tsFile(file(tag, r))))));
        return { wallS: Math.max(...runs.map((x) => x.wallS)), cpuS: runs.reduce((sum, x) => sum + x.cpuS, 0) };
      },
      check: async (tag) => void (await checkAll(tag, RUNGS)),
    },
    'B: 1 process, split': {
      run: (tag) => timedFfmpeg(ladderArgs(job, RUNGS, RUNGS.map((r) => tsFile(file(tag, r))))),
      check: async (tag) => void (await checkAll(tag, RUNGS)),
    },
    'B: 720p+360p, 1 process': {
      run: (tag) => timedFfmpeg(ladderArgs(job, PAIR, PAIR.map((r) => tsFile(file(tag, r))))),
      check: async (tag) => void (await checkAll(tag, PAIR)),
    },
    'decode only (-f null)': { run: () => timedFfmpeg(decodeArgs(job)), check: async () => undefined },
  };
  for (const r of RUNGS) {
    variants[`${r.name} alone`] = { run: (tag) => timedFfmpeg(renditionArgs(job, r, tsFile(file(tag, r)))), check: async (tag) => void (await checkAll(tag, [r])) };
  }
  return variants;
}

// Wall time from spawn until the first 360p segment is complete; every process is then SIGKILLed.
async function timeToFirstSegment(args: string[], watch: string, background?: string[]): Promise<number> {
  const extra = background ? execa('ffmpeg', background, { reject: false }) : undefined;
  if (extra) await sleep(1500); // the 720p encoder is in its stride when the viewer switches
  const start = performance.now();
  const child = execa('ffmpeg', args, { reject: false });
  let exited = false;
  child.once('exit', () => { exited = true; });
  try {
    while (!(await stat(watch).then(() => true, () => false))) {
      if (exited || extra?.exitCode != null) throw new Error(`ffmpeg ended before ${watch}: ${(await child).stderr.slice(-500)}`);
      await sleep(5);
    }
    return performance.now() - start;
  } finally {
    child.kill('SIGKILL');
    extra?.kill('SIGKILL');
    await Promise.all([child, extra]);
  }
}

// The switch variants: a 720p viewer moves to 360p at segment SWITCH_AT.
function switchVariants(src: string, dir: string): Record<string, Measure> {
  const job = { src, from: SWITCH_AT * D, seconds: 3 * D };
  const pattern = (tag: string, r: Rung): string => path.join(dir, `${tag}-${r.name}-%03d.ts`);
  const segment = (tag: string, r: Rung, n: number): string => pattern(tag, r).replace('%03d', String(n).padStart(3, '0'));
  const low = rung('360p');
  const ladder = (rungs: Rung[]): Measure['run'] => async (tag) => ({
    wallS: (await timeToFirstSegment(ladderArgs(job, rungs, rungs.map((r) => tsSegments(pattern(tag, r)))), segment(tag, low, 1))) / 1000,
    cpuS: Number.NaN,
  });
  const check = async (tag: string): Promise<void> => checkOutput(segment(tag, low, 0), low, D * FPS);
  return {
    'A: new 360p process': { run: async (tag) => ({ wallS: (await timeToFirstSegment(renditionArgs(job, low, tsSegments(pattern(tag, low))), segment(tag, low, 1))) / 1000, cpuS: Number.NaN }), check },
    'B: restart with 720p+360p': { run: ladder(PAIR), check },
    'A: new 360p process, 720p process running': {
      run: async (tag) => {
        const busy = renditionArgs({ src, from: job.from - D, seconds: 5 * D }, rung('720p'), tsFile(path.join(dir, `${tag}-busy.ts`)));
        return { wallS: (await timeToFirstSegment(renditionArgs(job, low, tsSegments(pattern(tag, low))), segment(tag, low, 1), busy)) / 1000, cpuS: Number.NaN };
      },
      check,
    },
    'B: restart with the whole ladder': { run: ladder(RUNGS), check },
  };
}

export async function benchLadder(): Promise<Record<string, unknown>> {
  const src = await makeLadderSource();
  const dir = await mkdtemp(path.join(tmpdir(), 'seekwell-bench-ladder-'));
  try {
    const keyFrames = (await execa('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-skip_frame', 'nokey', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', src])).stdout.split('\n').filter((l) => l.trim() !== '').map((l) => parseFloat(l));
    // Validate every variant on one segment before anything is timed.
    for (const [name, m] of Object.entries({ ...cpuVariants(src, dir, D), ...switchVariants(src, dir) })) {
      const tag = `check-${name.replace(/\W+/g, '_')}`;
      await m.run(tag);
      await m.check(tag);
    }
    const cpu = cpuVariants(src, dir, MEASURE_SECONDS);
    const switches = switchVariants(src, dir);
    const runs: Record<string, Run[]> = {};
    const load: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      load.push(round(loadavg()[0]!, 2));
      for (const [name, m] of [...Object.entries(cpu), ...Object.entries(switches)]) {
        const tag = `r${i}-${name.replace(/\W+/g, '_')}`;
        (runs[name] ??= []).push(await m.run(tag));
        await m.check(tag);
        process.stderr.write(`  round ${i + 1} ${name}: ${JSON.stringify(runs[name]!.at(-1))}\n`);
      }
      await rm(dir, { recursive: true, force: true }).then(() => execa('mkdir', ['-p', dir]));
    }
    return report(runs, keyFrames, load);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Tables (printed to stderr) and the raw samples. "CPU-bound x" is what two idle cores could sustain
// at the measured CPU cost (2 / CPU seconds per content second): the shared machine's wall clock is noisy.
function report(runs: Record<string, Run[]>, keyFrames: number[], load: number[]): Record<string, unknown> {
  const segments = MEASURE_SECONDS / D;
  const perSegment = (name: string): number[] => runs[name]!.map((x) => x.cpuS / segments);
  const speed = (name: string): number[] => runs[name]!.map((x) => MEASURE_SECONDS / x.wallS);
  const bound = (name: string): number[] => perSegment(name).map((cpu) => (cpus().length * D) / cpu);
  const ratio = (a: string, b: string, f: (name: string) => number[]): number => round(median(f(a).map((x, i) => x / f(b)[i]!)), 2);
  const B = 'B: 1 process, split';
  const cpuNames = ['decode only (-f null)', ...RUNGS.map((r) => `${r.name} alone`), 'A: 4 processes', B, 'B: 720p+360p, 1 process'];
  const cpuRows = cpuNames.map((n) => [n, cell2(perSegment(n)), cell2(speed(n)), round(median(bound(n)), 2), ratio(n, B, perSegment)]);
  const switchNames = Object.keys(runs).filter((n) => !cpuNames.includes(n));
  const ms = (name: string): number[] => runs[name]!.map((x) => x.wallS * 1000);
  const switchRows = switchNames.map((n) => [n, cell2(ms(n), 0), ratio(n, 'A: new 360p process', ms)]);
  const pairExtra = perSegment('B: 720p+360p, 1 process').map((x, i) => x - perSegment('720p alone')[i]!);
  const alwaysOn = {
    'CPU s per segment that 360p adds to a 720p B process (B 720p+360p - 720p alone)': round(median(pairExtra), 2),
    'as a share of 720p alone': ratio('B: 720p+360p, 1 process', '720p alone', perSegment),
    'whole ladder always on (B) vs 720p alone, CPU ratio': ratio(B, '720p alone', perSegment),
  };
  const cpuHeaders = ['variant', 'CPU s per 4 s segment, median (min-max)', 'x realtime, measured', 'CPU-bound x', 'CPU ratio to B'];
  const switchHeaders = ['switch 720p -> 360p at k=10', 'ms to first 360p segment', 'ratio to A alone'];
  process.stderr.write(`\n${formatTable(cpuHeaders, cpuRows)}\n\n${formatTable(switchHeaders, switchRows)}\n\nB always on: ${JSON.stringify(alwaysOn)}\n`);
  return {
    question: 'H.264 ladder, lazily: one ffmpeg per rendition (A) or one decode split into N encodes (B)? CPU per segment, realtime speed, wait after a 720p -> 360p switch',
    source: { file: 'testsrc2 1920x1080 25 fps + noise=alls=12:allf=t, x264 superfast High CRF 20 capped 15 Mbit/s, AAC', seconds: SOURCE_SECONDS, keyFramesSeconds: keyFrames },
    measuredSecondsPerRun: MEASURE_SECONDS,
    rounds: ROUNDS,
    loadAverageAtRoundStart: load,
    cpu: { headers: cpuHeaders, rows: cpuRows },
    switch: { headers: switchHeaders, rows: switchRows },
    alwaysOn,
    samples: Object.fromEntries(Object.entries(runs).map(([n, xs]) => [n, { cpuS: xs.map((x) => round(x.cpuS, 2)), wallS: xs.map((x) => round(x.wallS, 3)) }])),
    perSegmentSummary: Object.fromEntries(cpuNames.map((n) => [n, summary(perSegment(n))])),
  };
}

function cell2(values: number[], digits = 2): string {
  const s = values.map((v) => round(v, digits));
  return `${round(median(values), digits)} (${Math.min(...s)}-${Math.max(...s)})`;
}
