// The JSON shape of GET /api/sessions/<id>: the viewer, and every rendition of its title with its
// runs, window and state.
import type { Rendition } from '../media/plan.js';
import { numberOf } from '../media/timeline.js';
import type { Session } from '../session/session.js';
import type { RunHandle } from '../session/title.js';

export function sessionStatus(session: Session): Record<string, unknown> {
  const { title } = session;
  const { timeline } = title.plan;
  const mine = title.runsOf(session);
  // The viewer's picture run (its audio run for an audio-only title): the one `run` describes.
  const main = mine.find((h) => title.rendition(h.renditionId)?.kind === 'video') ?? mine[0];
  const states = mine.map((h) => runState(h));
  return {
    id: session.id,
    media: title.source.relative,
    state: session.closed ? 'closed' : states.length === 0 ? 'idle' : states.includes('running') || states.includes('starting') ? 'running' : 'paused',
    createdAt: new Date(session.createdAt).toISOString(),
    lastActivity: new Date(session.lastActivity).toISOString(),
    durationSeconds: timeline.durationSeconds,
    segmentSeconds: timeline.segmentSeconds,
    segmentCount: timeline.count,
    startSegment: numberOf(session.startIndex),
    frontierSegment: session.frontier === undefined ? null : numberOf(session.frontier),
    windowSegments: title.windowSegments,
    bufferSeconds: session.bufferSeconds ?? null,
    renditions: title.plan.renditions.map((r) => renditionStatus(session, r)),
    // Which source tracks are served as they are (mode `copy` below), and why the others are not.
    copy: title.plan.copy,
    segments: Object.fromEntries(title.plan.renditions.filter((r) => r.kind !== 'text').map((r) => [r.id, title.store.indexes(r.id).map(numberOf)])),
    run: main && runStatus(session, main),
    restarts: session.restarts,
    restartLog: session.restartLog.map((r) => ({ at: new Date(r.at).toISOString(), segment: numberOf(r.index), reason: r.reason, renditions: r.renditions })),
    waitMs: session.waitPercentiles ?? null,
    bytesOnDisk: title.store.bytesOnDisk,
  };
}

function renditionStatus(session: Session, rendition: Rendition): Record<string, unknown> {
  const { spec: _spec, ...descriptor } = rendition;
  const production = session.title.productions.find((p) => p.rendition.id === rendition.id);
  const runs = production?.runs ?? [];
  const states = runs.map(runState);
  return {
    ...descriptor,
    state: rendition.kind === 'text' ? 'on-demand' : runs.length === 0 ? 'idle' : states.includes('running') || states.includes('starting') ? 'running' : 'paused',
    watched: production?.isWatchedBy(session) ?? false,
    runs: runs.map((h) => runStatus(session, h)),
  };
}

function runState(handle: RunHandle): 'starting' | 'running' | 'paused' {
  return !handle.run ? 'starting' : handle.run.paused ? 'paused' : 'running';
}

function runStatus(session: Session, handle: RunHandle): Record<string, unknown> {
  const run = handle.run;
  const frontier = session.frontier;
  const producedIndex = run?.producedIndex;
  const { timeline } = session.title.plan;
  const round = (n: number): number => Math.round(n * 1000) / 1000;
  return {
    id: handle.id,
    rendition: handle.renditionId,
    startSegment: numberOf(handle.range.startIndex),
    endSegment: numberOf(handle.range.endIndex - 1),
    producedSegment: producedIndex === undefined || producedIndex < handle.range.startIndex ? null : numberOf(producedIndex),
    positionSeconds: run ? round(Math.max(0, run.positionSeconds)) : null,
    state: runState(handle),
    speed: run?.speed === undefined ? null : round(run.speed),
    // How far the finished segments reach past the end of the viewer's frontier segment.
    leadSeconds: producedIndex === undefined || frontier === undefined ? null : round(timeline.endOf(producedIndex) - timeline.endOf(frontier)),
    pids: run?.pids ?? {},
  };
}
