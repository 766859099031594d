// Who runs what: creates sessions from media paths, finds them by id, closes idle ones, and on
// close() resolves only after every session and every child process is gone.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SeekwellError } from '../errors.js';
import type { Logger } from '../log.js';
import { planPlayback } from '../media/plan.js';
import { openMediaSource, type SourceDeps } from '../media/source.js';
import { Session, type SessionOptions } from './session.js';

export interface RegistryOptions extends SessionOptions {
  sessionsDir: string;
  segmentSeconds: number;
  sessionIdleMs: number;
}

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #options: RegistryOptions;
  readonly #source: SourceDeps;
  readonly #log: Logger;
  readonly #sweeper: NodeJS.Timeout;
  #closing: Promise<void> | undefined;

  constructor(options: RegistryOptions, source: SourceDeps, log: Logger) {
    this.#options = options;
    this.#source = source;
    this.#log = log;
    const every = Math.max(250, Math.min(30_000, Math.floor(options.sessionIdleMs / 4)));
    this.#sweeper = setInterval(() => void this.closeIdle(), every);
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Probes (and if needed remuxes) the media, plans it and opens a session on it. */
  async create(media: unknown): Promise<Session> {
    this.#assertOpen();
    const source = await openMediaSource(this.#source, media);
    this.#assertOpen();
    const plan = planPlayback(source.info, this.#options.segmentSeconds);
    // randomUUID: 122 random bits, as ids must not be guessable.
    const id = randomUUID();
    const log = this.#log.child({ session: id });
    const session = new Session(id, path.join(this.#options.sessionsDir, id), source, plan, this.#options, log);
    await session.open();
    this.#sessions.set(id, session);
    log.info('session opened', { media: source.relative, segments: plan.model.segmentCount });
    return session;
  }

  get(id: string): Session {
    const session = this.#sessions.get(id);
    if (!session || session.closed) throw new SeekwellError('SESSION_NOT_FOUND', 'no such session');
    return session;
  }

  list(): Session[] {
    return [...this.#sessions.values()];
  }

  async delete(id: string, reason = 'deleted'): Promise<void> {
    const session = this.get(id);
    this.#sessions.delete(id);
    await session.close(reason);
  }

  /** Closes every session with no request for sessionIdleMs. */
  async closeIdle(): Promise<void> {
    const cutoff = this.#options.now() - this.#options.sessionIdleMs;
    const idle = this.list().filter((s) => s.lastActivity <= cutoff);
    await Promise.all(idle.map((s) => this.delete(s.id, 'idle').catch(() => {})));
  }

  /** Closes every session; idempotent, never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweeper);
      const sessions = this.list();
      this.#sessions.clear();
      await Promise.all(sessions.map((s) => s.close('server closing')));
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw new SeekwellError('SHUTTING_DOWN', 'the server is shutting down');
  }
}
