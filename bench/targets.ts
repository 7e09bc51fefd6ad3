// The servers a benchmark compares: Sigver (built into dist/) and the raw
// forwarder, each behind one small interface.
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ServerProcess } from './server-process.js';

/**
 * A started target. Hosts connect to `hostUrl` and joiners to `joinUrl`:
 * the same process, or two processes of one cluster in a cross-process
 * run. CPU and RSS are summed over `processes`.
 *
 * @example
 * // The cluster target: two Sigver processes sharing one Redis, hosts on
 * // the first and joiners on the second.
 * // { name: 'sigver-cluster', hostUrl: a.url, joinUrl: b.url, processes: [a, b], support: [redis] }
 */
export interface TargetInstance {
  readonly name: string;
  readonly hostUrl: string;
  readonly joinUrl: string;
  readonly processes: readonly ServerProcess[];
  /** Processes the target needs that are not servers (Redis): their CPU is reported apart. */
  readonly support?: readonly ServerProcess[];
  stop(): Promise<void>;
}

/** A server to benchmark, which can be started afresh any number of times. */
export interface Target {
  readonly name: string;
  start(): Promise<TargetInstance>;
}

/** Total CPU time of a target's processes, ns. */
export function targetCpuNs(instance: TargetInstance): number {
  return instance.processes.reduce((sum, p) => sum + p.cpuNs(), 0);
}

/** Total CPU time of a target's support processes (Redis), ns; 0 when it has none. */
export function targetSupportCpuNs(instance: TargetInstance): number {
  return (instance.support ?? []).reduce((sum, p) => sum + p.cpuNs(), 0);
}

/** Total RSS of a target's processes, bytes. */
export function targetRssBytes(instance: TargetInstance): number {
  return instance.processes.reduce((sum, p) => sum + p.rssBytes(), 0);
}

function singleProcess(name: string, server: ServerProcess): TargetInstance {
  return {
    name,
    hostUrl: server.url,
    joinUrl: server.url,
    processes: [server],
    stop: async () => {
      await server.stop();
    },
  };
}

const READY_TIMEOUT_MS = 15_000;

/** Settings that keep Sigver's abuse limits out of the measurement, and extra flags. */
export interface SigverLimits {
  readonly maxJoiners: number;
  /** Flags added after the benchmark's own (`--sigver-args`); none by default. */
  readonly extraArgs?: readonly string[];
}

/**
 * Sigver from `dist/cli/main.js`, on loopback, port 0, with the rate limit
 * and connection cap raised so they do not distort the measurement, and
 * every other setting at its default: connection logs at `info` included,
 * written to a pipe that the benchmark drains, as a service manager would.
 */
export function sigverTarget(root: string, limits: SigverLimits, name = 'sigver'): Target {
  return {
    name,
    start: async () => singleProcess(name, await startSigver(root, limits, name, [])),
  };
}

/** Node's flags for every Sigver process the driver starts (`--profile`). */
let sigverNodeFlags: readonly string[] = [];

/** Every Sigver process started from now on writes a V8 CPU profile into `dir` when it exits. */
export function profileSigverInto(dir: string): void {
  sigverNodeFlags = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

function startSigver(
  root: string,
  limits: SigverLimits,
  label: string,
  extraArgs: readonly string[],
): Promise<ServerProcess> {
  const args = [
    ...sigverNodeFlags,
    join(root, 'dist/cli/main.js'),
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--rate-limit',
    '1000000',
    '--rate-burst',
    '1000000',
    '--byte-rate',
    '1000000000',
    '--byte-burst',
    '1000000000',
    '--max-connections',
    '200000',
    '--max-joiners',
    String(limits.maxJoiners),
    ...extraArgs,
    ...(limits.extraArgs ?? []),
  ];
  return ServerProcess.start({ label, command: process.execPath, args, cwd: root, readyTimeoutMs: READY_TIMEOUT_MS });
}

/** A TCP port that was free on 127.0.0.1 when asked. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no loopback port');
  return address.port;
}

/**
 * A private redis-server on a free loopback port, with no persistence.
 * Another program may take the port between asking and binding: then
 * redis-server exits at once, and a new port is tried.
 */
async function startRedis(root: string, label: string): Promise<{ server: ServerProcess; url: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const server = await ServerProcess.start({
        label,
        command: 'redis-server',
        args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()],
        cwd: root,
        readyTimeoutMs: READY_TIMEOUT_MS,
        readyLine: /Ready to accept connections/,
      });
      return { server, url: `redis://127.0.0.1:${port}` };
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/**
 * Two Sigver processes in cluster mode sharing a private redis-server:
 * hosts connect to the first and joiners to the second, so every
 * handshake crosses processes over Redis. The CPU of the two Sigver
 * processes is summed; Redis's is reported apart (`support`). Use v1 only:
 * a v0 host gets no acknowledgement, so a joiner on the other process
 * could overtake the registration (docs/CLUSTER.md).
 */
export function sigverClusterTarget(root: string, limits: SigverLimits, name = 'sigver-cluster'): Target {
  return {
    name,
    start: async () => {
      const started: ServerProcess[] = [];
      const stop = async (): Promise<void> => {
        // The Sigver processes first, so that they leave Redis cleanly.
        const [redis, ...sigvers] = started;
        await Promise.allSettled(sigvers.map((p) => p.stop()));
        await redis?.stop();
      };
      try {
        const redis = await startRedis(root, `${name}/redis`);
        started.push(redis.server);
        const a = await startSigver(root, limits, `${name}/a`, ['--redis', redis.url]);
        started.push(a);
        const b = await startSigver(root, limits, `${name}/b`, ['--redis', redis.url]);
        started.push(b);
        return { name, hostUrl: a.url, joinUrl: b.url, processes: [a, b], support: [redis.server], stop };
      } catch (error) {
        await stop();
        throw error;
      }
    },
  };
}

/** A target started by a shell-free command line given by the user (`--sigver-cmd`). */
export function commandTarget(root: string, name: string, commandLine: readonly string[]): Target {
  const [command, ...args] = commandLine;
  if (command === undefined) throw new Error('empty server command');
  return {
    name,
    start: async () =>
      singleProcess(
        name,
        await ServerProcess.start({ label: name, command, args, cwd: root, readyTimeoutMs: READY_TIMEOUT_MS }),
      ),
  };
}

/**
 * Compiles bench/raw-forwarder.ts to plain JavaScript under .artifacts/, so
 * that the forwarder runs on bare `node` like Sigver's dist/ (no loader
 * thread, no source-map hooks). Returns the path of the .mjs file.
 */
export function buildForwarder(root: string): Promise<string> {
  return buildBenchScript(root, 'raw-forwarder');
}

/** Compiles bench/NAME.ts, as {@link buildForwarder} does, to .artifacts/bench/NAME.mjs; returns that path. */
export async function buildBenchScript(root: string, name: string): Promise<string> {
  const outDir = join(root, '.artifacts', 'bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}.mjs`);
  await build({
    entryPoints: [join(root, 'bench', `${name}.ts`)],
    outfile,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  return outfile;
}

/** The raw forwarder, from the file {@link buildForwarder} wrote. */
export function forwarderTarget(root: string, script: string, name = 'forwarder'): Target {
  const args = [script, '--port', '0', '--host', '127.0.0.1'];
  return {
    name,
    start: async () =>
      singleProcess(
        name,
        await ServerProcess.start({
          label: name,
          command: process.execPath,
          args,
          cwd: root,
          readyTimeoutMs: READY_TIMEOUT_MS,
        }),
      ),
  };
}
