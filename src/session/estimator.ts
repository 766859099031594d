// What this machine measured about its encoder: the cold start (run start -> first segment) and
// the running speed, as medians of the most recent runs. Feeds the seek cost model.

const KEEP = 9;

export class EncoderEstimator {
  readonly #coldStarts: number[] = [];
  readonly #speeds: number[] = [];
  readonly #defaults: { coldStartSeconds: number; speed: number };

  // Defaults until this machine has measured its own (PIPELINE.md: ~1.2-1.5 s, ~4.5x at 720p).
  constructor(defaults = { coldStartSeconds: 1.5, speed: 4 }) {
    this.#defaults = defaults;
  }

  recordColdStart(seconds: number): void {
    push(this.#coldStarts, seconds);
  }

  recordSpeed(speed: number): void {
    if (Number.isFinite(speed) && speed > 0) push(this.#speeds, speed);
  }

  get coldStartSeconds(): number {
    return median(this.#coldStarts) ?? this.#defaults.coldStartSeconds;
  }

  get typicalSpeed(): number {
    return median(this.#speeds) ?? this.#defaults.speed;
  }
}

function push(values: number[], value: number): void {
  values.push(value);
  if (values.length > KEEP) values.shift();
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
