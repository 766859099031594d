// The built-in player page (GET /) driven in headless Chromium on the built-in demo clip: pick it,
// play, seek, and check that the live panel shows what the server reports.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { launchChromium } from './support/browser.js';

// Screenshots are test artifacts, never committed (.gitignore: .artifacts/).
const ARTIFACTS = path.resolve('.artifacts');

describe('the built-in player page', () => {
  let srv: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    // No MEDIA_DIR: the server makes and serves its built-in demo, as `npm start` does.
    srv = await startTestServer({});
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('plays the demo clip, seeks, and shows the engine working in its panel', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${srv.base}/`);
    await page.click('#library button[data-path="demo.mp4"]');
    await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).currentTime > 3, undefined, { timeout: 30_000 });
    await page.evaluate(() => { (document.getElementById('video') as HTMLVideoElement).currentTime = 80; });
    await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).currentTime > 82, undefined, { timeout: 30_000 });
    // Let the panel poll the server at least once after the seek.
    await page.waitForFunction(() => {
      const s = (window as unknown as { seekwellStatus?: { frontierSegment: number; renditions: { id: string; kind: string }[]; segments: Record<string, number[]> } }).seekwellStatus;
      return s !== undefined && s.frontierSegment >= 21
        && s.renditions.some((r) => r.kind === 'video' && s.segments[r.id]!.includes(21));
    }, undefined, { timeout: 30_000 });
    // The status the page last drew and what it drew, read in one go: the page redraws every 500 ms.
    const { status, drawn } = await page.evaluate(() => {
      const status = (window as unknown as { seekwellStatus: Record<string, any> }).seekwellStatus;
      const count = (selector: string): number => document.querySelectorAll(selector).length;
      const rowIds = [...document.querySelectorAll<HTMLElement>('#timeline .track')].map((row) => row.dataset.rendition!);
      return {
        status,
        drawn: {
          restartCount: document.getElementById('restart-count')!.textContent,
          restartItems: count('#restarts li'),
          state: document.getElementById('state')!.textContent,
          rows: Object.fromEntries(rowIds.map((id) => [id, count(`#timeline .track[data-rendition="${id}"] .seg.on`)])),
          videoOn: count('#timeline .track.video .seg.on'),
          videoOn21: count('#timeline .track.video .seg.on[data-n="21"]'),
          watched: count('#timeline .track.watched'),
        },
      };
    });
    const server = (await (await fetch(`${srv.base}/api/sessions/${status.id}`)).json()) as Record<string, any>;
    expect(server.restarts).toBeGreaterThanOrEqual(1);
    expect(drawn.restartCount).toBe(String(status.restarts));
    expect(drawn.restartItems).toBe(status.restartLog.length);
    expect(drawn.state).toBe(status.state);
    // One row per encoded rendition, each showing exactly the segments the server has of it.
    const rows = (status.renditions as { id: string; kind: string; watched: boolean }[]).filter((r) => r.kind !== 'text');
    expect(drawn.rows).toEqual(Object.fromEntries(rows.map((r) => [r.id, status.segments[r.id].length])));
    // The player's ABR picks (and may change) the quality: together the video rows hold what it played.
    expect(drawn.videoOn).toBeGreaterThanOrEqual(3);
    expect(drawn.videoOn21).toBeGreaterThanOrEqual(1);
    expect(drawn.watched).toBe(rows.filter((r) => r.watched).length);
    // shaka-player's overflow menu offers the quality, language and subtitle choices.
    await page.click('.shaka-overflow-menu-button');
    for (const button of ['resolution', 'language', 'caption']) expect(await page.locator(`.shaka-overflow-menu .shaka-${button}-button`).count()).toBe(1);
    // The page polls twice a second: its frontier is the one read above or a later one.
    const shown = /frontier (\d+) \/ 30/.exec((await page.textContent('#facts')) ?? '');
    expect(Number(shown?.[1])).toBeGreaterThanOrEqual(status.frontierSegment);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-page.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
