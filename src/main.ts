// The only file that touches process.*: reads the command line and the environment, handles
// signals, sets the exit code (1: cannot listen, 2: bad usage or configuration, 3: a binary is
// missing).
import { createServer as createNetServer } from 'node:net';
import { ConfigError, type Config } from './config.js';
import { bracketed, helpText, listenProblem, packageVersion, parseCommandLine } from './cli.js';
import { createLogger } from './log.js';
import { MissingBinaryError } from './pipeline/binaries.js';
import { createProgress } from './progress.js';
import { createServer } from './server.js';

async function main(): Promise<void> {
  const version = packageVersion();
  let config: Config;
  try {
    const command = parseCommandLine(process.argv.slice(2), process.env);
    if (command.kind === 'help') return void process.stdout.write(helpText(version));
    if (command.kind === 'version') return void process.stdout.write(`seekwell ${version}\n`);
    config = command.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`seekwell: ${error.message}\nRun \`seekwell --help\` for every option.\n`);
    process.exit(2);
  }
  const terminal = process.stderr.isTTY === true;
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && terminal);
  const log = createLogger(config.logLevel, (line) => process.stderr.write(line), { pretty, colorize: pretty && terminal && !process.env.NO_COLOR });
  // A progress line rewritten in place only where a person watches and the lines are not JSON.
  const progress = createProgress(log, terminal && pretty ? process.stderr : undefined);
  log.info('starting', { version, node: process.version });
  // Before the demo clip or anything else is made: a taken port is said in a second, not after it.
  const free = await canListen(config.host, config.port);
  if (free !== true) {
    process.stderr.write(`seekwell: ${listenProblem(free, config.host, config.port)}\n`);
    process.exit(1);
  }
  let server;
  try {
    server = await createServer(config, { log, progress, processMetrics: true });
  } catch (error) {
    if (!(error instanceof MissingBinaryError)) throw error;
    process.stderr.write(`seekwell: cannot start:\n${error.message}\n`);
    process.exit(3);
  }
  let port: number;
  try {
    port = await server.listen();
  } catch (error) {
    // Taken in the meantime.
    await server.close();
    process.stderr.write(`seekwell: ${listenProblem(error, config.host, config.port)}\n`);
    process.exit(1);
  }
  const base = `http://${urlHost(config.host)}:${port}`;
  log.info('listening', { url: base, mediaDir: server.mediaDir, workDir: config.workDir });
  process.stdout.write([
    `Seekwell ${version} is serving ${config.mediaDir ?? 'the built-in demo clip'}`,
    `  Open ${base}/ to browse and play`,
    `  Library:  ${base}/api/media`,
    `  Metrics:  ${base}/metrics`,
    ...(config.mediaDir ? [`  Streams:  ${base}/media/<file>/stream.m3u8 (HLS) or stream.mpd (DASH)`] : [
      `  HLS:      ${base}/media/demo.mp4/stream.m3u8`,
      `  DASH:     ${base}/media/demo.mp4/stream.mpd`,
    ]),
    '',
  ].join('\n'));
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

// True when a server could listen on host:port now; the error otherwise.
async function canListen(host: string, port: number): Promise<true | Error> {
  if (port === 0) return true;
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', (error) => resolve(error));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

// The address to open: a wildcard host listens everywhere, and is reached on this machine.
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return bracketed(host);
}

main().catch((error: unknown) => {
  process.stderr.write(`seekwell: fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
