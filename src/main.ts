// The only file that touches process.*: reads the environment, handles signals, sets the exit code.
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { MissingBinaryError } from './pipeline/binaries.js';
import { createServer } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`seekwell: ${error.message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel, (line) => process.stderr.write(line));
  if (!config.mediaDir) log.info('MEDIA_DIR is not set: serving the built-in demo (made on first start, ~30 s)');
  let server;
  try {
    server = await createServer(config, { log });
  } catch (error) {
    if (!(error instanceof MissingBinaryError)) throw error;
    process.stderr.write(`seekwell: cannot start:\n${error.message}\n`);
    process.exit(3);
  }
  const port = await server.listen();
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info('listening', { url: base, mediaDir: server.mediaDir, workDir: config.workDir });
  process.stdout.write(`Seekwell: open ${base}/ to play${config.mediaDir ? '' : ' the built-in demo clip'}\n`);
  if (!config.mediaDir) {
    process.stdout.write(`  HLS:  ${base}/media/demo.mp4/stream.m3u8\n  DASH: ${base}/media/demo.mp4/stream.mpd\n  e.g. ffplay ${base}/media/demo.mp4/stream.m3u8\n`);
  }
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

main().catch((error: unknown) => {
  process.stderr.write(`seekwell: fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
