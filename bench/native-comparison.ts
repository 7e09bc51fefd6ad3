// What the workloads that compare Sigver with a client library's own server
// (PeerJS, y-webrtc) share: the three servers, how each is started, and the
// table of their figures.

import { ServerProcess } from './server-process.js';
import { ratio } from './stats.js';
import { sigverTarget, type TargetInstance } from './targets.js';

/** Sigver, the library's own server, and a raw-`ws` forwarder of the same protocol. */
export type ServerName = 'sigver' | 'native' | 'forwarder';
export const SERVERS: readonly ServerName[] = ['sigver', 'native', 'forwarder'];

/** One figure for each server. */
export interface ComparisonRow {
  readonly metric: string;
  readonly sigver: number;
  readonly native: number;
  readonly forwarder: number;
  readonly digits: number;
}

/** How to start the native server: it prints `readyLine` with its port. */
export interface NativeCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly readyLine: RegExp;
}

const READY_TIMEOUT_MS = 15_000;

/** Starts one of the three servers on a loopback port. */
export async function startCompared(
  root: string,
  name: ServerName,
  native: () => Promise<NativeCommand>,
  forwarderScript: string,
  sigverArgs: readonly string[],
): Promise<TargetInstance> {
  if (name === 'sigver') return sigverTarget(root, { maxJoiners: 256, extraArgs: sigverArgs }, 'sigver').start();
  const command =
    name === 'native'
      ? await native()
      : { command: process.execPath, args: [forwarderScript, '--port', '0'], readyLine: undefined };
  const server = await ServerProcess.start({
    label: name,
    cwd: root,
    readyTimeoutMs: READY_TIMEOUT_MS,
    command: command.command,
    args: [...command.args],
    ...(command.readyLine === undefined ? {} : { readyLine: command.readyLine }),
  });
  const url = server.url.startsWith('ws://') ? server.url : `ws://127.0.0.1:${server.url}`;
  return { name, hostUrl: url, joinUrl: url, processes: [server], stop: async () => void (await server.stop()) };
}

/** The rows as a table under `title`: each figure, and Sigver's ratio to the native server and to the forwarder. */
export function renderComparison(rows: readonly ComparisonRow[], nativeLabel: string, title: string): string {
  const header = ['metric', 'sigver', nativeLabel, 'forwarder', 'sigver/native', 'sigver/forwarder'];
  const cells = rows.map((r) => [
    r.metric,
    r.sigver.toFixed(r.digits),
    r.native.toFixed(r.digits),
    r.forwarder.toFixed(r.digits),
    `${ratio(r.sigver, r.native).toFixed(2)}x`,
    `${ratio(r.sigver, r.forwarder).toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [title, '', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  return `${lines.join('\n')}\n`;
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The warm-up's rate: at least one exchange on every pair. A connection's
 * first messages cost every server more than its later ones (about twice,
 * in the first measured burst, when the warm-up used 300 of 1,000 pairs),
 * and no measured burst should carry that.
 */
export function warmupRate(options: {
  readonly rate: number;
  readonly rooms: number;
  readonly warmupMs: number;
}): number {
  return Math.max(options.rate, Math.ceil((options.rooms * 1_000) / options.warmupMs));
}
