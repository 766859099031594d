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
      const subtitles = entry.subtitles.filter((t) => t.offered).length;
      info.textContent = `${Math.round(entry.durationSeconds)} s · ${picture} · ${entry.audio.length} audio${subtitles ? ` · ${subtitles} subtitles` : ''}`;
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
  const state = status.state;
  $('state').textContent = state;
  $('state').className = `badge ${state}`;
  const run = status.run;
  $('facts').textContent = [
    `frontier ${status.frontierSegment ?? '–'} / ${status.segmentCount}`,
    run ? `${run.rendition}: run from ${run.startSegment}, encoder at ${run.positionSeconds ?? 0} s` : 'no run',
    run?.speed ? `${run.speed}x realtime` : '',
    status.waitMs ? `wait p50 ${Math.round(status.waitMs.p50)} ms, p95 ${Math.round(status.waitMs.p95)} ms` : '',
  ].filter(Boolean).join(' · ');
  drawTimeline(status);
  $('restart-count').textContent = String(status.restarts);
  $('restarts').replaceChildren(...status.restartLog.map((r) => {
    const item = document.createElement('li');
    item.textContent = `segment ${r.segment}: ${r.reason}, ${r.renditions.join(' + ')} (${new Date(r.at).toLocaleTimeString()})`;
    return item;
  }));
}

// One row per encoded rendition: its segments on disk, its runs (start -> encoder position), and
// the viewer's frontier and window. The rows the viewer watches are marked.
function drawTimeline(status) {
  const timeline = $('timeline');
  const count = status.segmentCount;
  const rows = status.renditions.filter((r) => r.kind !== 'text');
  const key = `${count}:${rows.map((r) => r.id).join(',')}`;
  if (timeline.dataset.key !== key) {
    timeline.replaceChildren(...rows.map((r) => trackRow(r, count)));
    timeline.dataset.key = key;
  }
  const pct = (segments) => `${(100 * Math.max(0, Math.min(count, segments))) / count}%`;
  const frontier = status.frontierSegment;
  for (const r of rows) {
    const row = timeline.querySelector(`.track[data-rendition="${r.id}"]`);
    row.classList.toggle('watched', r.watched);
    row.querySelector('.state').textContent = r.state;
    const on = new Set(status.segments[r.id] ?? []);
    row.querySelectorAll('.seg').forEach((cell) => cell.classList.toggle('on', on.has(Number(cell.dataset.n))));
    const cells = row.querySelector('.cells');
    cells.querySelectorAll('.overlay').forEach((el) => el.remove());
    const overlay = (name, from, to) => {
      const el = document.createElement('div');
      el.className = `overlay ${name}`;
      el.style.left = pct(from);
      if (to !== undefined) el.style.width = pct(to - from);
      cells.append(el);
    };
    if (r.watched && frontier !== null) {
      overlay('window', frontier, Math.min(count, frontier + status.windowSegments));
      overlay('frontier', frontier);
    }
    for (const run of r.runs) overlay('run', run.startSegment - 1, (run.positionSeconds ?? 0) / status.segmentSeconds);
  }
}

function trackRow(rendition, count) {
  const row = document.createElement('div');
  row.className = `track ${rendition.kind}`;
  row.dataset.rendition = rendition.id;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = rendition.kind === 'audio' ? `${rendition.id} · ${rendition.label}` : rendition.id;
  const state = document.createElement('span');
  state.className = 'state muted';
  const cells = document.createElement('div');
  cells.className = 'cells';
  cells.style.gridTemplateColumns = `repeat(${count}, 1fr)`;
  for (let n = 1; n <= count; n++) {
    const cell = document.createElement('div');
    cell.className = `seg ${rendition.kind}`;
    cell.dataset.n = String(n);
    cells.append(cell);
  }
  row.append(name, cells, state);
  return row;
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
  // The menus that choose among the title's renditions: quality, audio language, subtitles.
  ui.configure({ overflowMenuButtons: ['quality', 'language', 'captions', 'playback_rate', 'picture_in_picture'] });
  player.addEventListener('error', (event) => {
    console.error('shaka error', JSON.stringify(event.detail));
    showError(event.detail);
  });
  window.seekwellPlayer = player;
  await showLibrary();
}

void main();
