// The built-in player page: library, shaka-player UI, and a live view of the session's engine.
'use strict';
const $ = (id) => document.getElementById(id);
let player;
let ui;
let session;
let timer;

async function api(path, init) {
  const response = await fetch(path, init);
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(`${body?.code ?? response.status}: ${body?.message ?? ''}`);
  return body;
}

async function showLibrary() {
  const list = $('library');
  try {
    const media = await api('/api/media');
    list.replaceChildren(...media.map((entry) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.dataset.path = entry.path;
      button.textContent = entry.path;
      const info = document.createElement('small');
      const picture = entry.video ? `${entry.video.width}x${entry.video.height}` : 'audio only';
      info.textContent = `${Math.round(entry.durationSeconds)} s · ${picture} · ${entry.audio.length} audio`;
      button.append(info);
      button.addEventListener('click', () => play(entry.path, button));
      item.append(button);
      return item;
    }));
    if (media.length === 0) list.innerHTML = '<li class="muted">no playable files in MEDIA_DIR</li>';
  } catch (error) {
    showError(error);
  }
}

async function play(path, button) {
  document.querySelectorAll('#library button').forEach((b) => b.classList.toggle('active', b === button));
  $('error').hidden = true;
  if (session) void api(`/api/sessions/${session.id}`, { method: 'DELETE' }).catch(() => {});
  session = await api('/api/sessions', { method: 'POST', body: JSON.stringify({ media: path }) });
  $('media').textContent = path;
  $('panel').hidden = false;
  const url = $('format').value === 'hls' ? session.hls : session.dash;
  try {
    await player.load(url);
  } catch (error) {
    showError(error);
  }
  clearInterval(timer);
  timer = setInterval(refresh, 500);
  void refresh();
}

async function refresh() {
  if (!session) return;
  let status;
  try {
    status = await api(`/api/sessions/${session.id}`);
  } catch {
    return;
  }
  window.seekwellStatus = status;
  const state = status.run ? status.run.state : status.state;
  $('state').textContent = state;
  $('state').className = `badge ${state}`;
  const run = status.run;
  $('facts').textContent = [
    `frontier ${status.frontierSegment ?? '–'} / ${status.segmentCount}`,
    run ? `run from ${run.startSegment}, encoder at ${run.positionSeconds ?? 0} s` : 'no run',
    run?.speed ? `${run.speed}x realtime` : '',
    status.waitMs ? `wait p50 ${Math.round(status.waitMs.p50)} ms, p95 ${Math.round(status.waitMs.p95)} ms` : '',
  ].filter(Boolean).join(' · ');
  drawTimeline(status);
  $('restart-count').textContent = String(status.restarts);
  $('restarts').replaceChildren(...status.restartLog.map((r) => {
    const item = document.createElement('li');
    item.textContent = `segment ${r.segment}: ${r.reason} (${new Date(r.at).toLocaleTimeString()})`;
    return item;
  }));
}

function drawTimeline(status) {
  const timeline = $('timeline');
  const count = status.segmentCount;
  if (timeline.dataset.count !== String(count)) {
    timeline.replaceChildren();
    for (const kind of ['video', 'audio']) {
      for (let n = 1; n <= count; n++) {
        const cell = document.createElement('div');
        cell.className = `seg ${kind}`;
        cell.dataset.n = String(n);
        cell.style.gridRow = kind === 'video' ? '1' : '2';
        cell.style.gridColumn = String(n);
        timeline.append(cell);
      }
    }
    for (const name of ['window', 'frontier', 'run']) {
      const overlay = document.createElement('div');
      overlay.className = `overlay ${name}`;
      timeline.append(overlay);
    }
    timeline.dataset.count = String(count);
  }
  const idOf = (kind) => status.renditions.find((r) => r.kind === kind)?.id;
  const on = { video: new Set(status.segments[idOf('video')] ?? []), audio: new Set(status.segments[idOf('audio')] ?? []) };
  timeline.querySelectorAll('.seg').forEach((cell) => {
    const kind = cell.classList.contains('video') ? 'video' : 'audio';
    cell.classList.toggle('on', on[kind].has(Number(cell.dataset.n)));
  });
  const pct = (segments) => `${(100 * segments) / count}%`;
  const place = (name, from, to) => {
    const el = timeline.querySelector(`.overlay.${name}`);
    el.hidden = from === undefined;
    if (from === undefined) return;
    el.style.left = pct(from);
    if (to !== undefined) el.style.width = pct(Math.max(0, to - from));
  };
  const frontier = status.frontierSegment;
  place('frontier', frontier === null ? undefined : frontier);
  place('window', frontier === null ? undefined : frontier, frontier === null ? undefined : Math.min(count, frontier + status.windowSegments));
  const run = status.run;
  place('run', run ? run.startSegment - 1 : undefined, run ? Math.min(count, (run.positionSeconds ?? 0) / status.segmentSeconds) : undefined);
}

function showError(error) {
  $('error').hidden = false;
  $('error').textContent = error?.message ?? String(error?.code ?? error);
}

async function main() {
  shaka.polyfill.installAll();
  const video = $('video');
  player = new shaka.Player();
  await player.attach(video);
  ui = new shaka.ui.Overlay(player, $('player'), video);
  player.addEventListener('error', (event) => {
    console.error('shaka error', JSON.stringify(event.detail));
    showError(event.detail);
  });
  window.seekwellPlayer = player;
  await showLibrary();
}

void main();
