// The PeerJS workload of `npm run bench`: Sigver speaking PeerJS's server
// protocol, side by side with PeerJS's own server `peer` (its `peerjs`
// command, from the peer package) and a raw-`ws` forwarder by id
// (raw-peerjs-forwarder.ts), in one run, bursts alternating.
//
// - Handshakes: pairs of registered peers; one handshake is what two PeerJS
//   peers do to connect: A sends OFFER to B's id carrying an SDP offer
//   (about 3 KB), B receives it and sends the ANSWER to A's id, A receives
//   it. Started at a fixed rate; server CPU per 1000 handshakes is compared.
// - Idle: connections that registered an id (OPEN) and then wait; RSS per
//   connection, fresh process each time.
//
// The clients run in this (the driver's) process; only the servers' CPU and
// memory are measured.
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { makeSessionDescription } from './payloads.js';
import {
  delay,
  warmupRate,
  renderComparison,
  SERVERS,
  startCompared,
  type ComparisonRow,
  type NativeCommand,
  type ServerName,
} from './native-comparison.js';
import { percentile } from './stats.js';
import { buildBenchScript, freePort, targetCpuNs, targetRssBytes, type TargetInstance } from './targets.js';

/** Options of the workload. */
export interface PeerJsOptions {
  /** Handshakes started per second. */
  readonly rate: number;
  /** Pairs of peers the handshakes go round. */
  readonly rooms: number;
  readonly rounds: number;
  readonly burstMs: number;
  readonly warmupMs: number;
  /** Idle connections per RSS sample. */
  readonly idle: number;
  readonly idleRounds: number;
  readonly settleMs: number;
}

/** Defaults: about 70 s in all. */
export const DEFAULT_PEERJS_OPTIONS: PeerJsOptions = {
  rate: 300,
  rooms: 1_000,
  rounds: 3,
  burstMs: 3_000,
  warmupMs: 1_000,
  idle: 5_000,
  idleRounds: 2,
  settleMs: 500,
};

/** One figure for each server. */
export type PeerJsRow = ComparisonRow;

/** What the workload measured. */
export interface PeerJsResult {
  readonly rows: readonly PeerJsRow[];
  readonly failures: ReadonlyMap<string, number>;
}

const OPEN_TIMEOUT_MS = 10_000;

/** Runs the workload. `progress` gets one status line at a time. */
export async function runPeerJsWorkload(
  root: string,
  options: PeerJsOptions,
  progress: (text: string) => void,
  sigverArgs: readonly string[] = [],
): Promise<PeerJsResult> {
  const forwarderScript = await buildBenchScript(root, 'raw-peerjs-forwarder');
  const start = (name: ServerName): Promise<TargetInstance> =>
    startCompared(root, name, () => nativeCommand(root), forwarderScript, sigverArgs);
  const failures = new Map<string, number>();
  const fail = (reason: string, count = 1): void => void failures.set(reason, (failures.get(reason) ?? 0) + count);
  const cpu = new Map<ServerName, { ns: number; exchanges: number; ms: number }>(
    SERVERS.map((name) => [name, { ns: 0, exchanges: 0, ms: 0 }]),
  );
  const latencies = new Map<ServerName, number[]>(SERVERS.map((name) => [name, []]));

  const running: Array<{ name: ServerName; instance: TargetInstance; rooms: Room[] }> = [];
  try {
    for (const name of SERVERS) {
      progress(`peerjs: starting ${name}, ${options.rooms} rooms`);
      const instance = await start(name);
      running.push({ name, instance, rooms: await openRooms(instance.hostUrl, options.rooms, 'x') });
    }
    for (const { name, rooms } of running) {
      progress(`peerjs warm-up ${name}`);
      const result = await exchangeBurst(rooms, warmupRate(options), options.warmupMs);
      if (result.failed > 0) fail(`${name}: warm-up handshakes not completed`, result.failed);
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? running : [...running].reverse();
      for (const { name, instance, rooms } of order) {
        progress(`peerjs handshakes round ${round + 1}/${options.rounds} ${name}`);
        const before = targetCpuNs(instance);
        const result = await exchangeBurst(rooms, options.rate, options.burstMs);
        const tally = cpu.get(name)!;
        tally.ns += targetCpuNs(instance) - before;
        tally.exchanges += result.completed;
        tally.ms += result.elapsedMs;
        latencies.get(name)!.push(...result.latenciesMs);
        if (result.failed > 0) fail(`${name}: handshakes not completed`, result.failed);
      }
    }
  } finally {
    for (const { rooms } of running) closeRooms(rooms);
    await Promise.allSettled(running.map(({ instance }) => instance.stop()));
  }

  const rss = new Map<ServerName, number[]>(SERVERS.map((name) => [name, []]));
  for (let round = 0; round < options.idleRounds; round++) {
    for (const name of round % 2 === 0 ? SERVERS : [...SERVERS].reverse()) {
      progress(`peerjs idle round ${round + 1}/${options.idleRounds} ${name}: ${options.idle} connections`);
      const instance = await start(name);
      const rooms: Room[] = [];
      try {
        rooms.push(...(await openRooms(instance.hostUrl, 50, 'warm')));
        await delay(options.settleMs);
        const base = targetRssBytes(instance);
        rooms.push(...(await openRooms(instance.hostUrl, options.idle / 2, 'idle')));
        await delay(options.settleMs);
        const full = targetRssBytes(instance);
        rss.get(name)!.push((full - base) / options.idle);
      } catch (error) {
        fail(`${name}: idle connections: ${(error as Error).message}`);
      } finally {
        closeRooms(rooms);
        await instance.stop();
      }
    }
  }

  const row = (metric: string, digits: number, of: (name: ServerName) => number): PeerJsRow => ({
    metric,
    sigver: of('sigver'),
    native: of('native'),
    forwarder: of('forwarder'),
    digits,
  });
  const perExchange = (name: ServerName): number => {
    const tally = cpu.get(name)!;
    return tally.exchanges === 0 ? Number.NaN : (tally.ns / 1e9 / tally.exchanges) * 1000;
  };
  return {
    rows: [
      row('handshakes/s', 0, (name) => {
        const tally = cpu.get(name)!;
        return tally.ms === 0 ? 0 : (tally.exchanges / tally.ms) * 1000;
      }),
      row('server CPU-s per 1000 handshakes', 4, perExchange),
      row('offer-to-answer p50, ms', 2, (name) => percentile(latencies.get(name)!, 50)),
      row('offer-to-answer p99, ms', 2, (name) => percentile(latencies.get(name)!, 99)),
      row('RSS per idle registered connection (median), KB', 2, (name) => percentile(rss.get(name)!, 50) / 1024),
    ],
    failures,
  };
}

/** The rows as a table: each figure, and Sigver's ratio to the native server and to the forwarder (failures are the caller's to list). */
export function renderPeerJs(result: PeerJsResult, options: PeerJsOptions): string {
  const title =
    `PeerJS: ${options.rooms} pairs of peers, ${options.rate} handshakes/s, ${options.rounds} bursts of ` +
    `${options.burstMs} ms per server; idle: ${options.idle} registered connections`;
  return renderComparison(result.rows, 'peer 1.0.2', title);
}

/** `peer`'s own command: its defaults but two: no cap of 5 000 clients, and idle benchmark clients send no HEARTBEAT. */
async function nativeCommand(root: string): Promise<NativeCommand> {
  return {
    // Its defaults but two: no cap of 5 000 clients, and idle benchmark clients send no HEARTBEAT.
    command: process.execPath,
    args: [
      join(root, 'node_modules/peer/dist/bin/peerjs.js'),
      ...['--port', String(await freePort()), '--host', '127.0.0.1'],
      ...['--concurrent_limit', '1000000', '--alive_timeout', '3600000'],
    ],
    readyLine: /Started PeerServer on \S+, port: (\d+)/,
  };
}

/** Two registered peers, with the frames of one handshake ready to send. */
interface Room {
  readonly a: WebSocket;
  readonly b: WebSocket;
  readonly offer: string;
  readonly answer: string;
  /** Resolves the handshake in flight, if any. */
  done: (() => void) | null;
}

const OFFER_SDP = makeSessionDescription('offer');
const ANSWER_SDP = makeSessionDescription('answer');

/** A PeerJS client's OFFER or ANSWER of a data connection. */
function peerJsFrame(type: 'OFFER' | 'ANSWER', dst: string, sdp: unknown): string {
  const payload = {
    sdp,
    type: 'data',
    connectionId: 'dc_bench',
    label: 'dc_bench',
    reliable: true,
    serialization: 'binary',
  };
  return JSON.stringify({ type, payload, dst });
}

/** Opens `count` pairs of peers, each registered (OPEN received). */
async function openRooms(url: string, count: number, prefix: string): Promise<Room[]> {
  const rooms: Room[] = [];
  const batch = 128;
  for (let i = 0; i < count; i += batch) {
    const made = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, (_, j) => openRoom(url, `${prefix}-${i + j}`)),
    );
    rooms.push(...made);
  }
  return rooms;
}

async function openRoom(url: string, name: string): Promise<Room> {
  const [a, b] = await Promise.all([openPeer(url, `${name}-a`), openPeer(url, `${name}-b`)]);
  const room: Room = {
    a,
    b,
    offer: peerJsFrame('OFFER', `${name}-b`, OFFER_SDP),
    answer: peerJsFrame('ANSWER', `${name}-a`, ANSWER_SDP),
    done: null,
  };
  b.on('message', () => b.send(room.answer));
  a.on('message', () => room.done?.());
  return room;
}

function openPeer(base: string, id: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}/peerjs?key=peerjs&id=${id}&token=t${id}&version=1.5.5`, {
      perMessageDeflate: false,
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('a connection did not open and register in time'));
    }, OPEN_TIMEOUT_MS);
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once('message', (data) => {
      clearTimeout(timer);
      if (String(data) === '{"type":"OPEN"}') resolve(ws);
      else reject(new Error(`registration refused: ${String(data)}`));
    });
  });
}

function closeRooms(rooms: readonly Room[]): void {
  for (const room of rooms) {
    room.a.terminate();
    room.b.terminate();
  }
}

interface BurstResult {
  readonly completed: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
}

/** Starts exchanges at `rate` per second for `durationMs`, round the rooms, then waits for the last ones. */
async function exchangeBurst(rooms: readonly Room[], rate: number, durationMs: number): Promise<BurstResult> {
  const startedAt = performance.now();
  const latenciesMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  let next = 0;
  while (performance.now() - startedAt < durationMs) {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * rate);
    while (started < due) {
      started++;
      const room = rooms[next++ % rooms.length]!;
      if (room.done !== null) continue;
      const t0 = performance.now();
      const exchange = new Promise<void>((resolve) => {
        room.done = () => {
          room.done = null;
          latenciesMs.push(performance.now() - t0);
          resolve();
        };
      });
      inFlight.add(exchange);
      void exchange.then(() => inFlight.delete(exchange));
      room.a.send(room.offer);
    }
    await delay(5);
  }
  const elapsedMs = performance.now() - startedAt;
  const drained = Promise.all(inFlight).then(() => true);
  const stuck = !(await Promise.race([drained, delay(5_000).then(() => false)]));
  // A room still busy when its turn comes (the machine stalled for longer than a
  // round of the rooms) is skipped: it lowers exchanges/s, it is not a failure.
  let failed = 0;
  if (stuck) {
    failed = inFlight.size;
    for (const room of rooms) room.done = null;
  }
  return { completed: latenciesMs.length, failed, elapsedMs, latenciesMs };
}
