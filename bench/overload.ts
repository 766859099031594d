// Question (issue 12): when more viewers arrive than this machine can encode for, what do they
// get? VIEWERS viewers arrive one every STAGGER_SECONDS, each on its own copy of the concurrency
// scenario's 120 s 1080p30 clip (-> 720p, no shared title), and play like its players (30 s
// buffer, 60 s watched, stalls counted the same way). The same arrivals against two server
// configurations, one after the other: LOAD_SHEDDING=off (before: every viewer admitted, nothing
// degrades) and on (the default: strained -> buffered viewers' runs pause, new runs search less;
// overloaded -> new sessions get 503 OVERLOADED). The concurrency scenario says how many 720p
// viewers this machine serves at once without stalls (4 on 2 cores).
import { setTimeout as sleep } from 'node:timers/promises';
import { viewerClips, watch, type ViewerResult } from './concurrency.js';
import { round, startServerProcess, type Scenario } from './support.js';

const VIEWERS = 7;
const STAGGER_SECONDS = 6;
const CONFIGS: { name: string; env: Record<string, string> }[] = [
  { name: 'LOAD_SHEDDING=off (before)', env: { LOAD_SHEDDING: 'off' } },
  { name: 'LOAD_SHEDDING=on', env: { LOAD_SHEDDING: 'on' } },
];
const LEVELS = ['normal', 'strained', 'overloaded'];

interface Outcome {
  config: string;
  admitted: ViewerResult[];
  refused: number[];
  /** Load level every second, from /metrics. */
  levels: string[];
}

async function loadLevel(base: string): Promise<string> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const level = Number(/^seekwell_load_level (\d)$/m.exec(text)?.[1]);
  return LEVELS[level] ?? 'unknown';
}

async function arrivals(config: { name: string; env: Record<string, string> }, dir: string, files: string[]): Promise<Outcome> {
  const server = await startServerProcess(`overload-${config.env.LOAD_SHEDDING}`, { MEDIA_DIR: dir, SEGMENT_SECONDS: '4', ...config.env });
  const outcome: Outcome = { config: config.name, admitted: [], refused: [], levels: [] };
  let done = false;
  try {
    const sampling = (async () => {
      while (!done) {
        outcome.levels.push(await loadLevel(server.base));
        await sleep(1000);
      }
    })();
    const viewers = files.slice(0, VIEWERS).map(async (file, i) => {
      await sleep(i * STAGGER_SECONDS * 1000);
      try {
        outcome.admitted.push(await watch(server.base, file, i + 1));
      } catch (error) {
        if (!/POST \/api\/sessions: 503/.test(String(error))) throw error;
        outcome.refused.push(i + 1);
      }
    });
    const settled = await Promise.allSettled(viewers);
    done = true;
    await sampling;
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    outcome.admitted.sort((a, b) => a.viewer - b.viewer);
    return outcome;
  } finally {
    done = true;
    await server.stop();
  }
}

export const overload: Scenario = async () => {
  const { dir, files } = await viewerClips(VIEWERS);
  const outcomes: Outcome[] = [];
  for (const config of CONFIGS) {
    process.stderr.write(`overload: ${config.name}…\n`);
    outcomes.push(await arrivals(config, dir, files));
  }
  const seconds = (o: Outcome, level: string): number => o.levels.filter((l) => l === level).length;
  return {
    question: `${VIEWERS} 720p viewers arriving ${STAGGER_SECONDS} s apart, each on its own title: who is admitted, who stalls?`,
    headers: ['server', 'admitted', 'refused (viewer #)', 'viewers stalled', 'stalls', 'stall s', 'worst viewer stall s', 's strained', 's overloaded'],
    rows: outcomes.map((o) => {
      const stalled = o.admitted.filter((v) => v.stalls > 0);
      return [
        o.config, o.admitted.length, o.refused.length === 0 ? 0 : `${o.refused.length} (#${o.refused.join(', #')})`,
        `${stalled.length} of ${o.admitted.length}`, o.admitted.reduce((a, v) => a + v.stalls, 0),
        round(o.admitted.reduce((a, v) => a + v.stallSeconds, 0), 1), round(Math.max(0, ...o.admitted.map((v) => v.stallSeconds)), 1),
        seconds(o, 'strained'), seconds(o, 'overloaded'),
      ];
    }),
    data: {
      viewers: VIEWERS, staggerSeconds: STAGGER_SECONDS,
      player: 'as concurrency: 30 s buffer target, 4 s segments, 60 s of playback at 1x, then DELETE; a stall is the playhead reaching the end of the buffer',
      outcomes,
    },
  };
};
