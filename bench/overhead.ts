// Scenarios 4 and 7: what the pull-driven pipeline costs against the physical limit (the same
// ffmpeg encodes to `-f null -`: one per rendition, video-720p and audio-1, side by side as the
// server runs them), and against the naive design (encode the whole file, then package, then
// serve) for the time to the first segment.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../src/config.js';
import { DEFAULT_LADDER } from '../src/media/ladder.js';
import { findRendition, planTitle } from '../src/media/plan.js';
import { createProber } from '../src/media/probe.js';
import { createTrackAnalyser } from '../src/media/tracks.js';
import { ffmpegArgs } from '../src/pipeline/ffmpeg-args.js';
import { packagerArgs } from '../src/pipeline/packager-args.js';
import { viewerWaits, twoMinuteClip } from './latency.js';
import { BENCH_DIR, cell, makeBenchClip, createSession, fetchPair, get, median, round, startServerProcess, summary, timed, type Scenario } from './support.js';

const REPEATS = 3;
/** The server's default segment length: the overhead is measured as a default server runs. */
const D = loadConfig({}).segmentSeconds;
const VIDEO = 'video-720p';
const AUDIO = 'audio-1';
const PACKAGER = 'node_modules/shaka-packager/bin/packager-linux-x64';

async function oneMinuteClip(): Promise<{ dir: string; file: string; seconds: number }> {
  const dir = path.join(BENCH_DIR, 'media-1min');
  await makeBenchClip(dir, 'one-min-1080p.mp4', 60);
  return { dir, file: 'one-min-1080p.mp4', seconds: 60 };
}

interface RenditionArgs {
  /** `video` or `audio`: the packager's stream selector for this rendition's MPEG-TS. */
  stream: 'video' | 'audio';
  args: string[];
}

/**
 * ffmpeg's arguments for whole-title runs of the 720p video and the first audio rendition, exactly
 * as the server builds them (one run per rendition), each with another output.
 */
async function wholeTitleArgs(file: string, output: (stream: 'video' | 'audio') => string[], segmentSeconds: number): Promise<{ runs: RenditionArgs[]; seconds: number }> {
  const info = await createProber('ffprobe')(file);
  const plan = planTitle(info, await createTrackAnalyser('ffprobe', 'ffmpeg')(info, info.demuxer), { segmentSeconds, ladder: DEFAULT_LADDER });
  const runs = [VIDEO, AUDIO].flatMap((id): RenditionArgs[] => {
    const rendition = findRendition(plan, id);
    if (rendition === undefined) return [];
    if (rendition.kind === 'text') throw new Error(`${id} is not an encoded rendition`);
    const stream = rendition.kind;
    const args = ffmpegArgs(`file:${file}`, info.demuxer, plan, rendition, { startIndex: 0, endIndex: plan.timeline.count });
    return [{ stream, args: [...args.slice(0, -3), ...output(stream)] }];
  });
  if (!runs.some((r) => r.stream === 'video')) throw new Error(`${file} has no ${VIDEO} rendition`);
  return { runs, seconds: plan.timeline.durationSeconds };
}

/** Runs every rendition's ffmpeg side by side, as the server does, until the last one ends. */
async function encodeAll(runs: RenditionArgs[]): Promise<void> {
  await Promise.all(runs.map((r) => execa('ffmpeg', r.args)));
}

export const encodeOverhead: Scenario = async () => {
  const clip = await oneMinuteClip();
  const { runs, seconds } = await wholeTitleArgs(path.join(clip.dir, clip.file), () => ['-f', 'null', '-'], D);
  const pipeline: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    // Interleaved, so both see the same machine.
    bare.push(seconds / ((await timed(() => encodeAll(runs))) / 1000));
    const server = await startServerProcess(`overhead-${i}`, { MEDIA_DIR: clip.dir, SEGMENT_SECONDS: String(D) });
    try {
      pipeline.push(seconds / ((await timed(async () => {
        const id = await createSession(server.base, clip.file);
        await Promise.all([get(`${server.base}/sessions/${id}/init/${VIDEO}.mp4`), get(`${server.base}/sessions/${id}/init/${AUDIO}.mp4`)]);
        for (let n = 1; n <= Math.ceil(seconds / D); n++) await fetchPair(server.base, id, VIDEO, n);
      })) / 1000));
    } finally {
      await server.stop();
    }
  }
  const ratio = median(pipeline) / median(bare);
  return {
    question: 'Pipeline speed (whole 60 s 1080p title, 720p + audio, fetched as fast as made) vs the same ffmpeg encodes to -f null -',
    headers: ['what', 'x realtime median (min-max)', 'ratio'],
    rows: [
      ['ffmpeg ... -f null -, one per rendition side by side (physical limit)', cell(bare.map((x) => round(x, 2))), 1],
      ['Seekwell pipeline, requests included', cell(pipeline.map((x) => round(x, 2))), round(ratio, 2)],
    ],
    data: { bareSpeed: summary(bare), pipelineSpeed: summary(pipeline), ratio: round(ratio, 3) },
  };
};

export const naiveBaseline: Scenario = async () => {
  const clip = await twoMinuteClip();
  const work = await mkdtemp(path.join(BENCH_DIR, 'naive-'));
  try {
    const { runs } = await wholeTitleArgs(path.join(clip.dir, clip.file), (stream) => ['-f', 'mpegts', `file:${path.join(work, `${stream}.ts`)}`], 4);
    const encodeMs = await timed(() => encodeAll(runs));
    const packageMs = await timed(() => Promise.all(runs.map((r) =>
      execa(path.resolve(PACKAGER), packagerArgs(`${r.stream}.ts`, [{ stream: r.stream, dir: r.stream }], 4), { cwd: work }))));
    const first = await stat(path.join(work, 'video', '360000.m4s')).then((s) => s.size, () => 0);
    if (first === 0) throw new Error('the naive pipeline made no first segment');
    const seekwell = (await viewerWaits(REPEATS)).first;
    const naive = encodeMs + packageMs;
    return {
      question: 'Time to the first segment on a 2-minute 1080p clip: encode-everything-then-package vs Seekwell',
      headers: ['design', 'first segment ms', 'ratio to Seekwell'],
      rows: [
        ['naive: encode whole file, then package', `${Math.round(naive)} (encode ${Math.round(encodeMs)} + package ${Math.round(packageMs)})`, round(naive / median(seekwell), 1)],
        ['Seekwell (median of 3, fresh server each)', cell(seekwell), 1],
      ],
      data: { naiveMs: round(naive), encodeMs: round(encodeMs), packageMs: round(packageMs), seekwellMs: summary(seekwell), ratio: round(naive / median(seekwell), 2) },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};
