// A Sigver server in a child process (forked with --expose-gc) that reports
// its own memory and CPU time, so that a test can attack it from another
// process and measure what the attack costs it. The settings come as JSON in
// argv[2]; it sends {url} once listening, answers 'measure', and closes and
// exits when its parent disconnects.

import { readFileSync } from 'node:fs';
import { isSettingName } from '../../../src/options.js';
import { createSigverServer } from '../../../src/server.js';

/** What the probe sends to its parent. */
export type ProbeMessage =
  | { readonly type: 'listening'; readonly url: string }
  | {
      readonly type: 'measure';
      /** Resident set size after full garbage collections, bytes (VmRSS). */
      readonly rssBytes: number;
      /** CPU time since start, user and system, ms (before the collections). */
      readonly cpuMs: number;
      readonly connections: number;
      /** `process.memoryUsage()` after the collections, for diagnostics. */
      readonly usage: NodeJS.MemoryUsage;
    };

const given = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
// Settings this version of the server does not know are left out, so that the
// tests can be run against an older server to see them fail.
const settings = Object.fromEntries(Object.entries(given).filter(([name]) => isSettingName(name)));
const server = createSigverServer({ port: 0, host: '127.0.0.1', logLevel: 'warn', ...settings });
const tell = (message: ProbeMessage): void => void process.send!(message);

function rssBytes(): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match![1]) * 1024;
}

const { url } = await server.listen();
tell({ type: 'listening', url });

process.on('message', (command: string) => {
  if (command !== 'measure') return;
  // Before the collections, which are the probe's work, not the server's.
  const { user, system } = process.cpuUsage();
  for (let i = 0; i < 4; i += 1) globalThis.gc!();
  tell({
    type: 'measure',
    rssBytes: rssBytes(),
    cpuMs: (user + system) / 1_000,
    connections: server.stats().connections,
    usage: process.memoryUsage(),
  });
});
process.on('disconnect', () => {
  void server.close().finally(() => process.exit(0));
});
