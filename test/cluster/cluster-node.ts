// An in-process Sigver server joined to a Redis cluster, for tests that need
// no real process: its backplane's events can be awaited, and the server
// and backplane are closed (in that order) when the test ends.

import { EventEmitter, once } from 'node:events';
import type WebSocket from 'ws';
import { RedisBackplane, type RedisBackplaneTimings } from '../../src/cluster/redis-backplane.js';
import type { Dialect } from '../../src/protocol/index.js';
import type { SigverServer, SigverServerOptions } from '../../src/server.js';
import type { TestClient } from '../support/client.js';
import { startServer } from '../support/server.js';
import { withTimeout } from '../support/waits.js';
import type { Cleanup } from './redis-server.js';

/** The backplane events a test can await, with their argument. */
export interface NodeEvents {
  disconnected: string;
  reconnected: undefined;
  restarted: undefined;
  processLost: string;
  keyLost: string;
  /** The server created a room (its key is claimed and published). */
  keyRegistered: string;
}

/** One process of a test cluster. */
export interface ClusterNode {
  readonly server: SigverServer;
  readonly backplane: RedisBackplane;
  readonly url: string;
  connect(dialect?: Dialect, options?: WebSocket.ClientOptions): Promise<TestClient>;
  /** Resolves on the next such event; call it before causing the event. */
  next<E extends keyof NodeEvents>(event: E, ms?: number): Promise<NodeEvents[E]>;
}

/** Options of {@link startNode}. */
export interface NodeOptions {
  /** Redis key prefix: nodes with the same prefix form one cluster. Default `sigver:`. */
  readonly keyPrefix?: string;
  readonly timings?: Partial<RedisBackplaneTimings>;
  readonly server?: SigverServerOptions;
}

/** Starts a server on 127.0.0.1, port 0, over a RedisBackplane on `redisUrl`. */
export async function startNode(t: Cleanup, redisUrl: string, options: NodeOptions = {}): Promise<ClusterNode> {
  const emitter = new EventEmitter();
  const backplane = await RedisBackplane.connect({
    url: redisUrl,
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    ...options.timings,
    events: {
      disconnected: (reason) => emitter.emit('disconnected', reason),
      reconnected: () => emitter.emit('reconnected'),
      restarted: () => emitter.emit('restarted'),
      processLost: (processId) => emitter.emit('processLost', processId),
      keyLost: (key) => emitter.emit('keyLost', key),
    },
  });
  // The server closes first (its clients with it), then the backplane it used.
  const afterServer: Cleanup = {
    after: (closeServer) =>
      t.after(async () => {
        await closeServer();
        await backplane.close();
      }),
  };
  const { server, url, connect } = await startServer(afterServer, {
    ...options.server,
    backplane,
    observer: { keyRegistered: (key) => emitter.emit('keyRegistered', key) },
  });
  return {
    server,
    backplane,
    url,
    connect: (dialect, clientOptions) => connect(dialect, clientOptions),
    async next(event, ms) {
      const [value] = await withTimeout(once(emitter, event), `backplane event ${event}`, ms);
      return value as NodeEvents[typeof event];
    },
  };
}

let clusters = 0;

/** Starts `count` nodes forming a cluster of their own (a fresh key prefix) on one Redis. */
export async function startCluster(
  t: Cleanup,
  redisUrl: string,
  count: number,
  options: NodeOptions = {},
): Promise<ClusterNode[]> {
  const keyPrefix = `cluster${++clusters}-${process.pid}:`;
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < count; i += 1) nodes.push(await startNode(t, redisUrl, { keyPrefix, ...options }));
  return nodes;
}
