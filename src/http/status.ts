// The JSON shape of GET /api/sessions/<id>.
import type { Session } from '../session/session.js';

export function sessionStatus(session: Session): Record<string, unknown> {
  const { title } = session;
  const { model } = title.plan;
  const D = model.segmentSeconds;
  const handle = title.runOf(session);
  const run = handle?.run;
  const frontier = session.frontier;
  const producedIndex = run?.producedIndex;
  const round = (n: number): number => Math.round(n * 1000) / 1000;
  return {
    id: session.id,
    media: title.source.relative,
    state: session.closed ? 'closed' : !handle ? 'idle' : run?.paused ? 'paused' : 'running',
    createdAt: new Date(session.createdAt).toISOString(),
    lastActivity: new Date(session.lastActivity).toISOString(),
    durationSeconds: model.durationSeconds,
    segmentSeconds: D,
    segmentCount: model.segmentCount,
    startSegment: session.startIndex + 1,
    frontierSegment: frontier === undefined ? null : frontier + 1,
    windowSegments: title.windowSegments,
    bufferSeconds: session.bufferSeconds ?? null,
    renditions: session.renditions,
    segments: Object.fromEntries(session.renditions.map((r) => [r.id, title.store.numbers(r.id)])),
    run: handle && {
      id: handle.id,
      startSegment: handle.range.startIndex + 1,
      endSegment: handle.range.endIndex,
      producedSegment: producedIndex === undefined || producedIndex < handle.range.startIndex ? null : producedIndex + 1,
      positionSeconds: run ? round(Math.max(0, run.positionSeconds)) : null,
      state: !run ? 'starting' : run.paused ? 'paused' : 'running',
      speed: run?.speed === undefined ? null : round(run.speed),
      // How far the finished segments reach past the end of the viewer's frontier segment.
      leadSeconds: producedIndex === undefined || frontier === undefined ? null : (producedIndex - frontier) * D,
      pids: run?.pids ?? {},
    },
    restarts: session.restarts,
    restartLog: session.restartLog.map((r) => ({ at: new Date(r.at).toISOString(), segment: r.index + 1, reason: r.reason })),
    waitMs: session.waitPercentiles ?? null,
    bytesOnDisk: title.store.bytesOnDisk,
  };
}
