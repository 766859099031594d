// Scenarios 4 and 7: what the pull-driven pipeline costs against the physical limit (the same
// ffmpeg encode to `-f null -`), and against the naive design (encode the whole file, then package,
// then serve) for the time to the first segment.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { planPlayback } from '../src/media/plan.js';
import { createProber } from '../src/media/probe.js';
import { createTrackAnalyser } from '../src/media/tracks.js';
import { ffmpegArgs } from '../src/pipeline/ffmpeg-args.js';
import { packagerArgs } from '../src/pipeline/packager-args.js';
import { viewerWaits, twoMinuteClip } from './latency.js';
import { BENCH_DIR, cell, makeBenchClip, createSession, fetchPair, get, median, round, startServerProcess, summary, timed, type Scenario } from './support.js';

const REPEATS = 3;
const VIDEO = 'video-720p';
const PACKAGER = 'node_modules/shaka-packager/bin/packager-linux-x64';

async function oneMinuteClip(): Promise<{ dir: string; file: string; seconds: number }> {
  const dir = path.join(BENCH_DIR, 'media-1min');
  await makeBenchClip(dir, 'one-min-1080p.mp4', 60);
  return { dir, file: 'one-min-1080p.mp4', seconds: 60 };
}

/** ffmpeg's arguments for a whole-title run, exactly as the server builds them, with another output. */
async function wholeTitleArgs(file: string, output: string[]): Promise<{ args: string[]; seconds: number; plan: ReturnType<typeof planPlayback> }> {
  const info = await createProber('ffprobe')(file);
  const plan = planPlayback(info, await createTrackAnalyser('ffprobe', 'ffmpeg')(info, info.demuxer), 4);
  const args = ffmpegArgs(`file:${file}`, info.demuxer, plan, { startIndex: 0, endIndex: plan.model.segmentCount });
  return { args: [...args.slice(0, -3), ...output], seconds: plan.model.durationSeconds, plan };
}

export const encodeOverhead: Scenario = async () => {
  const clip = await oneMinuteClip();
  const { args, seconds } = await wholeTitleArgs(path.join(clip.dir, clip.file), ['-f', 'null', '-']);
  const pipeline: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    // Interleaved, so both see the same machine.
    bare.push(seconds / ((await timed(() => execa('ffmpeg', args))) / 1000));
    const server = await startServerProcess(`overhead-${i}`, { MEDIA_DIR: clip.dir });
    try {
      pipeline.push(seconds / ((await timed(async () => {
        const id = await createSession(server.base, clip.file);
        await Promise.all([get(`${server.base}/sessions/${id}/init/${VIDEO}.mp4`), get(`${server.base}/sessions/${id}/init/audio.mp4`)]);
        for (let n = 1; n <= seconds / 4; n++) await fetchPair(server.base, id, VIDEO, n);
      })) / 1000));
    } finally {
      await server.stop();
    }
  }
  const ratio = median(pipeline) / median(bare);
  return {
    question: 'Pipeline speed (whole 60 s 1080p title fetched as fast as made) vs the same ffmpeg encode to -f null -',
    headers: ['what', 'x realtime median (min-max)', 'ratio'],
    rows: [
      ['ffmpeg ... -f null - (physical limit)', cell(bare.map((x) => round(x, 2))), 1],
      ['Seekwell pipeline, requests included', cell(pipeline.map((x) => round(x, 2))), round(ratio, 2)],
    ],
    data: { bareSpeed: summary(bare), pipelineSpeed: summary(pipeline), ratio: round(ratio, 3) },
  };
};

export const naiveBaseline: Scenario = async () => {
  const clip = await twoMinuteClip();
  const work = await mkdtemp(path.join(BENCH_DIR, 'naive-'));
  try {
    const { args, plan } = await wholeTitleArgs(path.join(clip.dir, clip.file), ['-f', 'mpegts', `file:${path.join(work, 'full.ts')}`]);
    const encodeMs = await timed(() => execa('ffmpeg', args));
    const streams = [{ stream: 'video' as const, dir: 'video' }, ...(plan.audio ? [{ stream: 'audio' as const, dir: 'audio' }] : [])];
    const packageMs = await timed(() => execa(path.resolve(PACKAGER), packagerArgs('full.ts', streams, 4), { cwd: work }));
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
