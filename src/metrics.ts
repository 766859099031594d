// Every metric Seekwell exports, declared in this one file, rendered in Prometheus text format.

type Labels = Record<string, string>;

class Counter {
  readonly #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels)) ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const [labels, value] of this.#values) lines.push(`${this.name}${labels} ${value}`);
    return lines;
  }
}

class Histogram {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {
    this.#counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.buckets.forEach((le, i) => {
      if (value <= le) this.#counts[i]!++;
    });
    this.#sum += value;
    this.#count++;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket{le="${le}"} ${this.#counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`, `${this.name}_sum ${this.#sum}`, `${this.name}_count ${this.#count}`);
    return lines;
  }
}

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

export class Metrics {
  readonly restarts = new Counter('seekwell_restarts_total', 'Runs started for a request no running run could serve soon enough, by reason.');
  readonly runsStarted = new Counter('seekwell_runs_started_total', 'Encoder runs started.');
  readonly segmentsServed = new Counter('seekwell_segments_served_total', 'Media segments served: from="store" was on disk at request time, from="encoder" was waited for.');
  readonly segmentsEncoded = new Counter('seekwell_segments_encoded_total', 'Media segments produced by the encoder (all renditions).');
  readonly segmentsRestored = new Counter('seekwell_segments_restored_total', 'Whole media segments found on disk when a title\'s store was opened (left by an earlier process): counted in the budget, never encoded.');
  readonly evictions = new Counter('seekwell_store_evictions_total', 'Segments evicted to keep WORK_DIR within CACHE_MAX_BYTES.');
  readonly runsDegraded = new Counter('seekwell_runs_degraded_total', 'Video runs started with less x264 search (-x264-params subme=1:me=dia:rc-lookahead=5) because the server was strained.');
  readonly refused = new Counter('seekwell_refused_total', 'Requests refused at a limit (503 OVERLOADED), by the limit reached.');
  readonly waitSeconds = new Histogram('seekwell_segment_wait_seconds', 'Time a segment request waited for its segment.', [0.005, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16]);

  render(gauges: Gauges): string {
    const gauge = (name: string, help: string, value: number): string[] => [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`];
    return [
      ...gauge('seekwell_sessions', 'Open sessions.', gauges.sessions),
      ...gauge('seekwell_runs', 'Encoder runs alive (running or paused).', gauges.runs),
      ...gauge('seekwell_runs_paused', 'Encoder runs paused a full window ahead of their viewers.', gauges.pausedRuns),
      ...gauge('seekwell_store_bytes', 'Bytes of media segments in the shared store.', gauges.storeBytes),
      ...gauge('seekwell_load_level', 'Whether encodes keep up with real time: 0 normal, 1 strained (buffered viewers pause, new runs search less), 2 overloaded (new sessions refused).', gauges.loadLevel),
      ...gauge('seekwell_memory_cache_bytes', 'Bytes of segments kept in memory for serving (MEMORY_CACHE_MAX_BYTES).', gauges.memoryCacheBytes),
      '# HELP seekwell_limit Configured limits: MAX_SESSIONS, MAX_VIDEO_ENCODES, BODY_MAX_BYTES, CACHE_MAX_BYTES (after the free-space cap) and the like.',
      '# TYPE seekwell_limit gauge',
      ...Object.entries(gauges.limits).map(([limit, value]) => `seekwell_limit{limit="${limit}"} ${value}`),
      ...this.restarts.render(),
      ...this.runsStarted.render(),
      ...this.segmentsServed.render(),
      ...this.segmentsEncoded.render(),
      ...this.segmentsRestored.render(),
      ...this.evictions.render(),
      ...this.refused.render(),
      ...this.runsDegraded.render(),
      ...this.waitSeconds.render(),
    ].join('\n') + '\n';
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}`;
}
