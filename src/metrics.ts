// Every metric Seekwell exports, declared in this one file, on prom-client: one Registry per
// server (no global state), the process's own metrics (CPU, memory, event-loop lag, GC) added by
// whoever owns the process (main.ts), since they are per process, not per server.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Gauges {
  sessions: number;
  runs: number;
  pausedRuns: number;
  storeBytes: number;
  memoryCacheBytes: number;
  /** 0 normal, 1 strained, 2 overloaded (session/load.ts). */
  loadLevel: number;
  /** Every configured limit, by name (sessions, video_encodes, body_bytes…). */
  limits: Record<string, number>;
}

/** Seconds: from a cache hit in memory (~1 ms) to a cold 4K start (several seconds). */
const WAIT_BUCKETS = [0.005, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16];
const FIRST_SEGMENT_BUCKETS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  readonly restarts = this.#counter('seekwell_restarts_total', 'Runs started for a request no running run could serve soon enough, by reason.', ['reason']);
  readonly runsStarted = this.#counter('seekwell_runs_started_total', 'Encoder runs started.');
  readonly segmentsServed = this.#counter('seekwell_segments_served_total', 'Media segments served: from="store" was on disk at request time, from="encoder" was waited for.', ['from']);
  readonly segmentsEncoded = this.#counter('seekwell_segments_encoded_total', 'Media segments produced by the encoder (all renditions).');
  readonly segmentsRestored = this.#counter('seekwell_segments_restored_total', 'Whole media segments found on disk when a title\'s store was opened (left by an earlier process): counted in the budget, never encoded.');
  readonly evictions = this.#counter('seekwell_store_evictions_total', 'Segments evicted to keep WORK_DIR within CACHE_MAX_BYTES.');
  readonly runsDegraded = this.#counter('seekwell_runs_degraded_total', 'Video runs started with less x264 search (-x264-params subme=1:me=dia:rc-lookahead=5) because the server was strained.');
  readonly refused = this.#counter('seekwell_refused_total', 'Requests refused at a limit (503 OVERLOADED), by the limit reached.', ['limit']);
  readonly waitSeconds = new Histogram({
    name: 'seekwell_segment_wait_seconds', help: 'Time a segment request waited for its segment, by rendition.',
    labelNames: ['rendition'], buckets: WAIT_BUCKETS, registers: [this.registry],
  });
  readonly firstSegmentSeconds = new Histogram({
    name: 'seekwell_first_segment_seconds', help: 'Time from a run\'s start to its first segment (the cold start of a new title or a far jump), by rendition.',
    labelNames: ['rendition'], buckets: FIRST_SEGMENT_BUCKETS, registers: [this.registry],
  });
  readonly #gauges: Record<Exclude<keyof Gauges, 'limits'>, Gauge> = {
    sessions: this.#gauge('seekwell_sessions', 'Open sessions.'),
    runs: this.#gauge('seekwell_runs', 'Encoder runs alive (running or paused).'),
    pausedRuns: this.#gauge('seekwell_runs_paused', 'Encoder runs paused a full window ahead of their viewers.'),
    storeBytes: this.#gauge('seekwell_store_bytes', 'Bytes of media segments in the shared store.'),
    loadLevel: this.#gauge('seekwell_load_level', 'Whether encodes keep up with real time: 0 normal, 1 strained (buffered viewers pause, new runs search less), 2 overloaded (new sessions refused).'),
    memoryCacheBytes: this.#gauge('seekwell_memory_cache_bytes', 'Bytes of segments kept in memory for serving (MEMORY_CACHE_MAX_BYTES).'),
  };
  readonly #limits = new Gauge({
    name: 'seekwell_limit', help: 'Configured limits: MAX_SESSIONS, MAX_VIDEO_ENCODES, BODY_MAX_BYTES, CACHE_MAX_BYTES (after the free-space cap) and the like.',
    labelNames: ['limit'], registers: [this.registry],
  });

  /** Adds the process's CPU, memory, event-loop lag, GC and handle metrics (once per process). */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The text exposition of every metric, the gauges read now. */
  async render(gauges: Gauges): Promise<string> {
    for (const [key, gauge] of Object.entries(this.#gauges)) gauge.set(gauges[key as Exclude<keyof Gauges, 'limits'>]);
    for (const [limit, value] of Object.entries(gauges.limits)) this.#limits.set({ limit }, value);
    return this.registry.metrics();
  }

  /** A counter's value for these labels (0 when never counted): for tests and status pages. */
  async valueOf(counter: Counter, labels: Record<string, string> = {}): Promise<number> {
    const { values } = await counter.get();
    const wanted = Object.entries(labels);
    return values.find((v) => wanted.every(([k, l]) => v.labels[k] === l) && Object.keys(v.labels).length === wanted.length)?.value ?? 0;
  }

  #counter(name: string, help: string, labelNames: string[] = []): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  #gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }
}
