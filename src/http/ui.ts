// The built-in player page (GET /): static files of this folder's ui/ plus shaka-player's UI
// build from node_modules (no CDN). Everything is read once, at start, and served from memory.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

const here = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ui');
const shakaDist = path.dirname(createRequire(import.meta.url).resolve('shaka-player/dist/shaka-player.ui.js'));

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(here, 'index.html'), type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: path.join(here, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: path.join(here, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/shaka-player/shaka-player.ui.js': { file: path.join(shakaDist, 'shaka-player.ui.js'), type: 'text/javascript; charset=utf-8' },
  '/vendor/shaka-player/controls.css': { file: path.join(shakaDist, 'controls.css'), type: 'text/css; charset=utf-8' },
};

// shaka-player's controls.css pulls Roboto from fonts.gstatic.com: dropped, so the page makes no
// request outside this server (the UI falls back to the system font).
function withoutRemoteFonts(css: string): string {
  return css.replace(/@font-face\s*\{[^}]*https?:\/\/[^}]*\}/g, '');
}

export async function registerUi(app: Hono): Promise<void> {
  for (const [route, { file, type }] of Object.entries(FILES)) {
    let body = await readFile(file);
    if (route.endsWith('controls.css')) body = Buffer.from(withoutRemoteFonts(body.toString('utf8')));
    app.get(route, (c) => c.body(new Uint8Array(body), 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=60' }));
  }
}
