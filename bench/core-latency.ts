// Question: how long does a viewer wait for the first segment of a title, and for a far jump?
// On the built-in demo clip (2 min 1080p30 -> 720p), 5 fresh sessions, medians reported.
// Each sample: POST a session, then init + segment 1 for video and audio together (first
// segment), then segment 25 (96 s in: a far jump that restarts the encoder).
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createServer } from '../src/server.js';
import { get, median, timed } from './support.js';

const SAMPLES = 5;
const JUMP_TO = 25;

export async function benchCoreLatency(): Promise<Record<string, unknown>> {
  const workDir = path.join(tmpdir(), 'seekwell-bench');
  const config = loadConfig({ PORT: '0', WORK_DIR: workDir, SEGMENT_WAIT_MS: '60000' });
  // The store outlives a server (issue 11): an earlier run's segments would make this warm.
  await rm(path.join(workDir, 'store'), { recursive: true, force: true });
  const demoStart = performance.now();
  const server = await createServer(config, { log: createLogger('warn') });
  const startupMs = performance.now() - demoStart;
  const base = `http://127.0.0.1:${await server.listen()}`;
  const first: number[] = [];
  const jump: number[] = [];
  try {
    for (let i = 0; i < SAMPLES; i++) {
      let prefix = '';
      first.push(await timed(async () => {
        const response = await fetch(`${base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media: 'demo.mp4' }) });
        const { id } = (await response.json()) as { id: string };
        prefix = `${base}/sessions/${id}`;
        await get(`${prefix}/stream.mpd`);
        await Promise.all(['video-720p', 'audio-1'].flatMap((r) => [get(`${prefix}/init/${r}.mp4`), get(`${prefix}/segments/${r}-00001.m4s`)]));
      }));
      const n = String(JUMP_TO).padStart(5, '0');
      jump.push(await timed(() => Promise.all([get(`${prefix}/segments/video-720p-${n}.m4s`), get(`${prefix}/segments/audio-1-${n}.m4s`)])));
      await fetch(`${prefix.replace('/sessions/', '/api/sessions/')}`, { method: 'DELETE' });
    }
  } finally {
    await server.close();
  }
  return {
    question: 'time to first segment and to a far jump on the demo clip (2 min 1080p30 -> 720p veryfast)',
    ffmpeg: server.versions.ffmpeg,
    packager: server.versions.packager,
    startupMs: Math.round(startupMs),
    firstSegmentMs: { median: Math.round(median(first)), samples: first.map(Math.round) },
    farJumpMs: { median: Math.round(median(jump)), samples: jump.map(Math.round), to: JUMP_TO },
  };
}
