// The JSON shape of GET /api/sessions/<id>.
import type { Session } from '../session/session.js';

export function sessionStatus(session: Session): Record<string, unknown> {
  const { model } = session.plan;
  const current = session.currentRun;
  const run = current?.run;
  const produced = run ? Math.min(...session.renditions.map((r) => run.produced.get(r.id) ?? current.range.startIndex - 1)) : undefined;
  return {
    id: session.id,
    media: session.source.relative,
    state: session.closed ? 'closed' : current ? 'running' : 'idle',
    createdAt: new Date(session.createdAt).toISOString(),
    lastActivity: new Date(session.lastActivity).toISOString(),
    durationSeconds: model.durationSeconds,
    segmentSeconds: model.segmentSeconds,
    segmentCount: model.segmentCount,
    renditions: session.renditions,
    segments: Object.fromEntries(session.renditions.map((r) => [r.id, session.store.numbers(r.id)])),
    run: current && {
      startSegment: current.range.startIndex + 1,
      endSegment: current.range.endIndex,
      producedSegment: produced === undefined ? null : produced + 1,
      positionSeconds: run ? Math.max(0, Math.round(run.positionSeconds * 1000) / 1000) : null,
      pids: run?.pids ?? {},
    },
    restarts: session.restarts,
    restartLog: session.restartLog.map((r) => ({ at: new Date(r.at).toISOString(), segment: r.index + 1, reason: r.reason })),
    bytesOnDisk: session.store.bytesOnDisk,
  };
}
