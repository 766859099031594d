// Debian's Chromium driven by playwright-core (never a downloaded browser), and a small static
// server for the player test page and the players' scripts from node_modules (no network).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.resolve(here, '../../../node_modules');

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(here, 'player-page.html'), type: 'text/html' },
  '/lib/shaka-player.compiled.js': { file: path.join(modules, 'shaka-player/dist/shaka-player.compiled.js'), type: 'text/javascript' },
  '/lib/hls.min.js': { file: path.join(modules, 'hls.js/dist/hls.min.js'), type: 'text/javascript' },
  '/lib/dash.all.min.js': { file: path.join(modules, 'dashjs/dist/modern/umd/dash.all.min.js'), type: 'text/javascript' },
};

/** Serves the test page on 127.0.0.1; the players fetch from the Seekwell server cross-origin (CORS). */
export async function servePlayerPage(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const entry = FILES[(req.url ?? '/').split('?')[0]!];
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    readFile(entry.file).then(
      (body) => res.writeHead(200, { 'Content-Type': entry.type }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What the player page's window.playerState() returns. */
export type PlayerState = Record<string, any>;

/** Polls the page's player state every 100 ms until `until` holds; throws on a fatal player error or after `ms`. */
export async function waitForPlayer(tab: Page, what: string, until: (s: PlayerState) => boolean, ms = 30_000): Promise<PlayerState> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = (await tab.evaluate('window.playerState()')) as PlayerState;
    if (s.fatal) throw new Error(`${what}: fatal player error ${s.fatal} (errors: ${s.errors.join(', ')})`);
    if (until(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: timed out at ${JSON.stringify(s)}`);
    await tab.waitForTimeout(100);
  }
}
