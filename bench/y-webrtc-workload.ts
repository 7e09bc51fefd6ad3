// The y-webrtc workload of `npm run bench`: Sigver speaking y-webrtc's
// signaling protocol, side by side with y-webrtc's own server (its
// bin/server.js, from the y-webrtc package) and a raw-`ws` pub/sub
// forwarder (raw-topic-forwarder.ts), in one run, bursts alternating.
//
// - Exchanges: rooms of two subscribers; one exchange is what two y-webrtc
//   peers do to connect: A publishes a signal carrying an SDP offer (about
//   3 KB), B receives it and publishes the answer, A receives that. Started
//   at a fixed rate; server CPU per 1000 exchanges is compared.
// - Idle: connections that subscribed to a room topic and then wait, as
//   y-webrtc peers do once connected; RSS per connection, fresh process each time.
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
export interface YWebrtcOptions {
  /** Exchanges started per second. */
  readonly rate: number;
  /** Rooms (pairs of subscribers) the exchanges go round. */
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
export const DEFAULT_YWEBRTC_OPTIONS: YWebrtcOptions = {
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
export type YWebrtcRow = ComparisonRow;

/** What the workload measured. */
export interface YWebrtcResult {
  readonly rows: readonly YWebrtcRow[];
  readonly failures: ReadonlyMap<string, number>;
}

const OPEN_TIMEOUT_MS = 10_000;

/** Runs the workload. `progress` gets one status line at a time. */
export async function runYWebrtcWorkload(
  root: string,
  options: YWebrtcOptions,
  progress: (text: string) => void,
  sigverArgs: readonly string[] = [],
): Promise<YWebrtcResult> {
  const forwarderScript = await buildBenchScript(root, 'raw-topic-forwarder');
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
      progress(`y-webrtc: starting ${name}, ${options.rooms} rooms`);
      const instance = await start(name);
      running.push({ name, instance, rooms: await openRooms(instance.hostUrl, options.rooms, 'x') });
    }
    for (const { name, rooms } of running) {
      progress(`y-webrtc warm-up ${name}`);
      const result = await exchangeBurst(rooms, warmupRate(options), options.warmupMs);
      if (result.failed > 0) fail(`${name}: warm-up exchanges not completed`, result.failed);
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? running : [...running].reverse();
      for (const { name, instance, rooms } of order) {
        progress(`y-webrtc exchanges round ${round + 1}/${options.rounds} ${name}`);
        const before = targetCpuNs(instance);
        const result = await exchangeBurst(rooms, options.rate, options.burstMs);
        const tally = cpu.get(name)!;
        tally.ns += targetCpuNs(instance) - before;
        tally.exchanges += result.completed;
        tally.ms += result.elapsedMs;
        latencies.get(name)!.push(...result.latenciesMs);
        if (result.failed > 0) fail(`${name}: exchanges not completed`, result.failed);
      }
    }
  } finally {
    for (const { rooms } of running) closeRooms(rooms);
    await Promise.allSettled(running.map(({ instance }) => instance.stop()));
  }

  const rss = new Map<ServerName, number[]>(SERVERS.map((name) => [name, []]));
  for (let round = 0; round < options.idleRounds; round++) {
    for (const name of round % 2 === 0 ? SERVERS : [...SERVERS].reverse()) {
      progress(`y-webrtc idle round ${round + 1}/${options.idleRounds} ${name}: ${options.idle} connections`);
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

  const row = (metric: string, digits: number, of: (name: ServerName) => number): YWebrtcRow => ({
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
      row('exchanges/s', 0, (name) => {
        const tally = cpu.get(name)!;
        return tally.ms === 0 ? 0 : (tally.exchanges / tally.ms) * 1000;
      }),
      row('server CPU-s per 1000 exchanges', 4, perExchange),
      row('offer-to-answer p50, ms', 2, (name) => percentile(latencies.get(name)!, 50)),
      row('offer-to-answer p99, ms', 2, (name) => percentile(latencies.get(name)!, 99)),
      row('RSS per idle subscribed connection (median), KB', 2, (name) => percentile(rss.get(name)!, 50) / 1024),
    ],
    failures,
  };
}

/** The rows as a table: each figure, and Sigver's ratio to the native server and to the forwarder (failures are the caller's to list). */
export function renderYWebrtc(result: YWebrtcResult, options: YWebrtcOptions): string {
  const title =
    `y-webrtc: ${options.rooms} rooms of 2, ${options.rate} exchanges/s, ${options.rounds} bursts of ` +
    `${options.burstMs} ms per server; idle: ${options.idle} subscribed connections`;
  return renderComparison(result.rows, 'y-webrtc server', title);
}

/** y-webrtc's bin/server.js. */
async function nativeCommand(root: string): Promise<NativeCommand> {
  return {
    // y-webrtc's server takes its port from PORT only; `env` execs node, so the pid is the server's.
    command: 'env',
    args: [`PORT=${await freePort()}`, process.execPath, join(root, 'node_modules/y-webrtc/bin/server.js')],
    readyLine: /Signaling server running on localhost: (\d+)/,
  };
}

/** Two subscribers of one topic, with the frames of one exchange ready to send. */
interface Room {
  readonly a: WebSocket;
  readonly b: WebSocket;
  readonly offer: string;
  readonly answer: string;
  /** Resolves the exchange in flight, if any. */
  done: (() => void) | null;
}

const OFFER_SDP = makeSessionDescription('offer');
const ANSWER_SDP = makeSessionDescription('answer');

/** y-webrtc's signal message, as its client publishes it without a password. */
function signalFrame(topic: string, from: string, to: string, signal: unknown): string {
  return JSON.stringify({ type: 'publish', topic, data: { to, from, type: 'signal', token: 'x', signal } });
}

/** Opens `count` rooms: two connections each, subscribed to the room's topic (confirmed by a pong). */
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

async function openRoom(url: string, topic: string): Promise<Room> {
  const [a, b] = await Promise.all([openSubscriber(url, topic), openSubscriber(url, topic)]);
  const room: Room = {
    a,
    b,
    offer: signalFrame(topic, 'a', 'b', OFFER_SDP),
    answer: signalFrame(topic, 'b', 'a', ANSWER_SDP),
    done: null,
  };
  // y-webrtc's own server also sends a publisher its own publication: each side
  // reacts only to the other's, as y-webrtc's client does (it drops its own).
  b.on('message', (data) => {
    if (String(data).includes('"from":"a"')) b.send(room.answer);
  });
  a.on('message', (data) => {
    if (String(data).includes('"from":"b"')) room.done?.();
  });
  return room;
}

function openSubscriber(url: string, topic: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('a connection did not open and subscribe in time'));
    }, OPEN_TIMEOUT_MS);
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', topics: [topic] }));
      ws.send('{"type":"ping"}');
    });
    ws.once('message', () => {
      // The pong: the subscription before it is in place.
      clearTimeout(timer);
      resolve(ws);
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
