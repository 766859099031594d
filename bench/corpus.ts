// Question: what does each awkward real-world source (fixtures/corpus.ts) become, and how long does
// a viewer wait for its first segment? Per fixture class: a fresh title (its own copy, so nothing
// comes warm from the store) for each sample; time from POST /api/sessions to the first segment
// of every track (MPD + inits + segment 1 together, as players ask); then every segment of every
// track is fetched once, and the output described: picture size, transfer, duration per track.
// Every request must answer 200: a failure is reported in the row, not measured.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { FIXTURES, makeCorpus } from '../fixtures/corpus.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createServer } from '../src/server.js';
import { BENCH_DIR, median, timed } from './support.js';

const SAMPLES = 3;

interface Track {
  id: string;
  kind: 'video' | 'audio';
}

export async function benchCorpus(): Promise<Record<string, unknown>> {
  const media = path.join(BENCH_DIR, 'corpus');
  await makeCorpus(media);
  const workDir = await mkdtemp(path.join(tmpdir(), 'seekwell-bench-corpus-'));
  const server = await createServer(loadConfig({ PORT: '0', WORK_DIR: workDir, MEDIA_DIR: media, SEGMENT_WAIT_MS: '60000', VIDEO_LADDER: '720' }), { log: createLogger('warn') });
  const base = `http://127.0.0.1:${await server.listen()}`;
  const rows: Record<string, unknown>[] = [];
  try {
    for (const fixture of FIXTURES) {
      const firstMs: number[] = [];
      let described: Record<string, unknown> = {};
      for (let i = 0; i < SAMPLES; i++) {
        const copy = `bench-${i}-${fixture.file}`;
        await copyFile(path.join(media, fixture.file), path.join(media, copy));
        try {
          let session: { prefix: string; tracks: Track[]; duration: number } | undefined;
          firstMs.push(await timed(async () => {
            session = await open(base, copy);
            await Promise.all(session.tracks.flatMap((t) => [fetchOk(`${session!.prefix}/init/${t.id}.mp4`), fetchOk(segmentUrl(session!.prefix, t.id, 1))]));
          }));
          if (i === 0) described = await describeOutput(session!, workDir);
        } catch (error) {
          described = { error: error instanceof Error ? error.message.slice(0, 200) : String(error) };
          break;
        } finally {
          await rm(path.join(media, copy), { force: true });
        }
      }
      rows.push({ fixture: fixture.name, firstSegmentMs: firstMs.length > 0 ? Math.round(median(firstMs)) : null, samples: firstMs.map(Math.round), ...described });
      process.stderr.write(`  ${fixture.name}: ${JSON.stringify(rows.at(-1))}\n`);
    }
  } finally {
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  }
  return { question: 'what each fixture class becomes, and its time to first segment (median of 3 fresh titles)', rows };
}

async function open(base: string, media: string): Promise<{ prefix: string; tracks: Track[]; duration: number }> {
  const response = await fetch(`${base}/api/sessions`, { method: 'POST', body: JSON.stringify({ media }) });
  const body = await response.text();
  if (response.status !== 201) throw new Error(`POST ${media}: ${response.status} ${body}`);
  const { id } = JSON.parse(body) as { id: string };
  const prefix = `${base}/sessions/${id}`;
  const mpd = await (await fetchOk(`${prefix}/stream.mpd`)).text();
  const tracks = [...mpd.matchAll(/contentType="(video|audio)"[\s\S]*?<Representation[^>]*id="([^"]+)"/g)].map((m) => ({ kind: m[1] as Track['kind'], id: m[2]! }));
  const duration = isoSeconds(/mediaPresentationDuration="([^"]+)"/.exec(mpd)?.[1] ?? 'PT0S');
  return { prefix, tracks, duration };
}

// Every segment of every track, concatenated behind its init and described by ffprobe.
async function describeOutput(session: { prefix: string; tracks: Track[]; duration: number }, dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { titleSeconds: session.duration };
  const count = Math.max(1, Math.ceil(session.duration / 4 - 1e-6));
  for (const track of session.tracks) {
    const parts = [Buffer.from(await (await fetchOk(`${session.prefix}/init/${track.id}.mp4`)).arrayBuffer())];
    for (let n = 1; n <= count; n++) parts.push(Buffer.from(await (await fetchOk(segmentUrl(session.prefix, track.id, n))).arrayBuffer()));
    const file = path.join(dir, `${track.id}.mp4`);
    await writeFile(file, Buffer.concat(parts));
    const probe = await execa('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height,color_transfer:format=start_time,duration', '-of', 'json', file]);
    const json = JSON.parse(probe.stdout) as { streams: { width?: number; height?: number; color_transfer?: string }[]; format: { start_time?: string; duration?: string } };
    const stream = json.streams[0] ?? {};
    out[track.kind] = {
      // The format's duration counts from media time 0; the track starts at presentationTimeOffset.
      seconds: Number((Number(json.format.duration) - Number(json.format.start_time)).toFixed(3)),
      ...(track.kind === 'video' ? { size: `${stream.width}x${stream.height}`, transfer: stream.color_transfer ?? 'unset' } : {}),
    };
  }
  return out;
}

function segmentUrl(prefix: string, id: string, n: number): string {
  return `${prefix}/segments/${id}-${String(n).padStart(5, '0')}.m4s`;
}

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url.replace(/^.*\/sessions\/[^/]+/, '')}: ${response.status} ${(await response.text()).slice(0, 150)}`);
  return response;
}

function isoSeconds(iso: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(iso);
  if (!match) return 0;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}
