// One supervised child process in its own process group: exit as a promise, a bounded stderr
// tail for error messages, and an escalating stop that always ends with the group gone.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { launched } from './binaries.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES...). */
  spawnError?: Error;
}

export interface SupervisedChild {
  readonly name: string;
  readonly pid: number | undefined;
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
  /** True once `exited` has settled. */
  readonly hasExited: boolean;
  /** The last lines the process wrote to stderr (progress lines excluded). */
  stderrTail(): string;
  /** Sends a signal to the whole process group; a no-op once the process is gone. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (with SIGCONT, so a paused group can act on it), then SIGKILL after graceMs. */
  terminate(graceMs: number): Promise<ChildExit>;
}

const TAIL_LINES = 20;

export function startChild(
  name: string,
  launcher: string[],
  file: string,
  args: string[],
  options: Omit<SpawnOptions, 'detached'>,
  onStderrLine?: (line: string) => boolean,
): SupervisedChild {
  const proc = spawn(...launched(launcher, file, args), { ...options, detached: true });
  const tail: string[] = [];
  let exited = false;
  const exitPromise = new Promise<ChildExit>((resolve) => {
    proc.once('error', (error) => {
      if (proc.pid === undefined) resolve({ code: null, signal: null, spawnError: error });
    });
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  }).finally(() => {
    exited = true;
  });
  proc.stderr?.setEncoding('utf8');
  let partial = '';
  proc.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (onStderrLine?.(line)) continue;
      if (line.trim() === '') continue;
      tail.push(line.slice(0, 500));
      if (tail.length > TAIL_LINES) tail.shift();
    }
  });
  const signal = (sig: NodeJS.Signals): void => {
    if (exited || proc.pid === undefined) return;
    try {
      process.kill(-proc.pid, sig);
    } catch {
      // The group is already gone.
    }
  };
  return {
    name,
    pid: proc.pid,
    process: proc,
    exited: exitPromise,
    get hasExited() {
      return exited;
    },
    stderrTail: () => tail.join('\n'),
    signal,
    async terminate(graceMs) {
      signal('SIGTERM');
      signal('SIGCONT');
      void sleep(graceMs, undefined, { ref: false }).then(() => signal('SIGKILL'));
      return exitPromise;
    },
  };
}

