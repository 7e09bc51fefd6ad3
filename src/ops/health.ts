// The health report served at GET /health: cheap counts, no locks, no I/O.

import type { SignalingStats } from '../core/signaling.js';

/** The JSON body of `GET /health`. */
export interface HealthReport {
  readonly status: 'ok';
  readonly uptimeSeconds: number;
  readonly connections: number;
  readonly keys: number;
}

/** Builds the health report from the start time (epoch ms) and the core's counts. */
export function healthReport(startedAt: number, stats: SignalingStats): HealthReport {
  return {
    status: 'ok',
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    connections: stats.connections,
    keys: stats.keys,
  };
}
