// A Sigver server at default limits in a child process that measures how long
// its own event loop is blocked, so that a test can attack it from another
// process and ask. Driven over the fork IPC channel: it sends {url} once
// listening, answers 'stats' and 'report' (the worst since the previous
// report), and closes and exits when its parent disconnects.
//
// Two measures: the event-loop delay (wall clock, `monitorEventLoopDelay`),
// which also counts time the operating system gave to other processes, and
// the CPU time spent between two turns of a 10 ms timer, which does not: on a
// busy shared machine only the latter is a stable test of the server's code.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createSigverServer } from '../../src/server.js';

/** What the probe sends to its parent. */
export type ProbeMessage =
  | { readonly type: 'listening'; readonly url: string }
  | { readonly type: 'stats'; readonly joiners: number; readonly connections: number }
  | {
      readonly type: 'report';
      /** Worst event-loop delay, wall clock, ms. */
      readonly maxDelayMs: number;
      /** Worst CPU time between two timer turns, ms. */
      readonly maxTurnCpuMs: number;
      /** CPU time of the whole period, ms. */
      readonly cpuMs: number;
    };

/** What the parent sends to the probe. */
export type ProbeCommand = 'stats' | 'report';

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
};

const delay = monitorEventLoopDelay({ resolution: 10 });
const server = createSigverServer({ port: 0, host: '127.0.0.1' });
const tell = (message: ProbeMessage): void => void process.send!(message);

const { url } = await server.listen();
delay.enable();
let reportedAt = cpuMs();
let turnAt = reportedAt;
let maxTurnCpuMs = 0;
const turns = setInterval(() => {
  const now = cpuMs();
  maxTurnCpuMs = Math.max(maxTurnCpuMs, now - turnAt);
  turnAt = now;
}, 10);
tell({ type: 'listening', url });

process.on('message', (command: ProbeCommand) => {
  switch (command) {
    case 'stats': {
      const { joiners, connections } = server.stats();
      return tell({ type: 'stats', joiners, connections });
    }
    case 'report': {
      const now = cpuMs();
      tell({ type: 'report', maxDelayMs: delay.max / 1e6, maxTurnCpuMs, cpuMs: now - reportedAt });
      reportedAt = now;
      maxTurnCpuMs = 0;
      return delay.reset();
    }
  }
});
process.on('disconnect', () => {
  clearInterval(turns);
  void server.close().finally(() => process.exit(0));
});
