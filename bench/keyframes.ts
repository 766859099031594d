// Question: can stream copy's key-frame index fit the manifest's 150 ms budget on a 2-hour 1080p
// H.264 film? The index read from the container (MP4 moov, Matroska Cues) against the ffprobe scan
// of every video packet it replaces, and against the probe every manifest already pays.
// The films are cheap to make: 60 s of 1080p24 testsrc2 (x264 ultrafast CRF 40, AAC), once with
// 2 s GOPs as films have and once with irregular GOPs (forced key frames 0.5-4.5 s apart),
// concatenated 120 times with the concat demuxer and `-c copy` into MP4 (moov at the end) and MKV.
// They are kept in a cache folder and remade when their recipe changes or a file's size does not
// match (~9 GB; ~1 minute to make on 2 cores). Validation first: every file's index must come from
// the container and equal the scan's key frames within 1 µs. Then medians of 5: cold (the file
// dropped from the OS page cache with `dd iflag=nocache count=0` before each run) and warm, each
// with a fresh indexer so no in-process cache answers.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { createKeyFrameIndexer, scanKeyFrames } from '../src/media/keyframes.js';
import { createProber, type MediaInfo } from '../src/media/probe.js';
import { BENCH_DIR, cell, formatTable, round, seededRandom, summary, timed } from './support.js';

const DIR = path.join(BENCH_DIR, 'keyframes');
const UNIT_SECONDS = 60;
const REPEAT = 120;
const RUNS = 5;
const ENCODE = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '40', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k', '-ac', '2'];

/** Forced key frames 0.5-4.5 s apart over the unit (deterministic). */
function irregularKeyFrames(): string {
  const random = seededRandom(7);
  const times = [0];
  while (times.at(-1)! < UNIT_SECONDS - 5) times.push(round(times.at(-1)! + 0.5 + random() * 4, 3));
  return times.join(',');
}

const UNITS = {
  'gop-2s': ['-g', '48', '-keyint_min', '48', '-sc_threshold', '0'],
  irregular: ['-g', '250', '-sc_threshold', '0', '-force_key_frames', irregularKeyFrames()],
};

interface Film { name: string; file: string; container: 'mp4' | 'matroska'; gop: string }

const FILMS: Film[] = Object.keys(UNITS).flatMap((gop) => [
  { name: `MP4, ${gop}`, file: `2h-${gop}.mp4`, container: 'mp4' as const, gop },
  { name: `MKV, ${gop}`, file: `2h-${gop}.mkv`, container: 'matroska' as const, gop },
]);

// Makes the films unless the cache holds them for this recipe, at the sizes recorded when made.
async function makeFilms(): Promise<void> {
  const recipe = JSON.stringify({ UNIT_SECONDS, REPEAT, ENCODE, UNITS });
  const record = path.join(DIR, 'recipe.json');
  const saved = await readFile(record, 'utf8').then((t) => JSON.parse(t) as { recipe: string; sizes: Record<string, number> }, () => undefined);
  const sizes = await Promise.all(FILMS.map((f) => stat(path.join(DIR, f.file)).then((s) => s.size, () => 0)));
  if (saved?.recipe === recipe && FILMS.every((f, i) => saved.sizes[f.file] === sizes[i])) return;
  await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true });
  const ffmpeg = (args: string[]): Promise<unknown> => execa('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { cwd: DIR });
  for (const [gop, args] of Object.entries(UNITS)) {
    process.stderr.write(`  keyframes: encoding the ${gop} unit…\n`);
    await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=24:duration=${UNIT_SECONDS}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${UNIT_SECONDS}`, ...ENCODE, ...args, `unit-${gop}.mp4`]);
    await writeFile(path.join(DIR, `list-${gop}.txt`), `file 'unit-${gop}.mp4'\n`.repeat(REPEAT));
  }
  for (const f of FILMS) {
    process.stderr.write(`  keyframes: concatenating ${f.file}…\n`);
    await ffmpeg(['-f', 'concat', '-safe', '0', '-i', `list-${f.gop}.txt`, '-c', 'copy', '-f', f.container === 'mp4' ? 'mp4' : 'matroska', `${f.file}.partial`]);
    await rename(path.join(DIR, `${f.file}.partial`), path.join(DIR, f.file));
  }
  const made = Object.fromEntries(await Promise.all(FILMS.map(async (f) => [f.file, (await stat(path.join(DIR, f.file))).size])));
  await writeFile(record, JSON.stringify({ recipe, sizes: made }));
}

async function dropFromPageCache(file: string): Promise<void> {
  await execa('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

async function validate(film: Film, info: MediaInfo): Promise<{ keyFrames: number; sizeGB: number }> {
  const index = await createKeyFrameIndexer('ffprobe', { scanWaitMs: 600_000 })(info);
  const scan = await scanKeyFrames('ffprobe', info);
  if (!index || 'missing' in index || !scan) throw new Error(`${film.file}: no index`);
  if (index.source !== film.container) throw new Error(`${film.file}: index from ${index.source}, not ${film.container}`);
  const worst = Math.max(...index.times.map((t, i) => Math.abs(t - (scan[i] ?? Number.NaN))));
  if (index.times.length !== scan.length || !(worst < 1e-6)) {
    throw new Error(`${film.file}: ${index.times.length} indexed key frames vs ${scan.length} scanned (worst ${worst} s)`);
  }
  if (Math.abs(info.durationSeconds - UNIT_SECONDS * REPEAT) > 1) throw new Error(`${film.file}: ${info.durationSeconds} s, not 2 hours`);
  return { keyFrames: scan.length, sizeGB: round(info.size / 1e9, 2) };
}

/** Milliseconds of `RUNS` runs of `fn`, each after dropping `file` from the page cache when `cold`. */
async function measure(file: string, cold: boolean, fn: () => Promise<unknown>, runs = RUNS): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (cold) await dropFromPageCache(file);
    ms.push(await timed(fn));
  }
  return ms;
}

export async function benchKeyFrames(): Promise<Record<string, unknown>> {
  await makeFilms();
  const infos = new Map<Film, MediaInfo>();
  const films: Record<string, unknown> = {};
  for (const f of FILMS) {
    const info = await createProber('ffprobe')(path.join(DIR, f.file));
    infos.set(f, info);
    films[f.file] = await validate(f, info);
  }
  const data: Record<string, Record<string, ReturnType<typeof summary>>> = {};
  const rows: (string | number)[][] = [];
  for (const f of FILMS) {
    const file = path.join(DIR, f.file);
    const info = infos.get(f)!;
    const index = (): Promise<unknown> => createKeyFrameIndexer('ffprobe')(info);
    const probe = (): Promise<unknown> => createProber('ffprobe')(file);
    const scan = (): Promise<unknown> => scanKeyFrames('ffprobe', info);
    const results = {
      indexCold: await measure(file, true, index),
      indexWarm: await measure(file, false, index),
      probeCold: await measure(file, true, probe),
      probeWarm: await measure(file, false, probe),
      // A cold scan reads the whole film from disk: once is enough to see it.
      scanCold: await measure(file, true, scan, 1),
      scanWarm: await measure(file, false, scan),
    };
    data[f.file] = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summary(v)]));
    rows.push([f.name, `${f.container === 'mp4' ? 'moov' : 'Cues'}`, cell(results.indexCold), cell(results.indexWarm),
      cell(results.probeCold), cell(results.probeWarm), cell(results.scanCold), cell(results.scanWarm)]);
    process.stderr.write(`  keyframes: ${f.name} measured\n`);
  }
  const headers = ['2-hour 1080p24 film', 'index from', 'index ms cold', 'index ms warm', 'probe ms cold', 'probe ms warm', 'scan ms cold (1 run)', 'scan ms warm'];
  process.stderr.write(`\n${formatTable(headers, rows)}\n`);
  return {
    question: 'Key-frame index of a 2-hour 1080p H.264 film from the container (moov, Cues) vs an ffprobe packet scan, against the 150 ms manifest budget; median (min-max) ms',
    films,
    headers,
    rows,
    data,
  };
}
