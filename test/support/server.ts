// Starts a Sigver server on a free loopback port for one test and closes it
// (and every client the test opened) when the test ends.

import { createSigverServer, type SigverServer, type SigverServerOptions } from '../../src/server.js';
import type { Dialect } from '../../src/protocol/index.js';
import { TestClient } from './client.js';
import type WebSocket from 'ws';
import { EventEmitter, once } from 'node:events';
import { withTimeout } from './waits.js';

/** A server for one test, with a client factory. */
export interface TestServer {
  readonly server: SigverServer;
  /** `ws://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  connect(dialect?: Dialect, options?: WebSocket.ClientOptions, path?: string): Promise<TestClient>;
  /** Resolves when the server has seen the next connection end. Call it before causing the end. */
  nextEnd(): Promise<void>;
  /** Resolves once the server has no open connection left. */
  idle(): Promise<void>;
}

/** Where a helper registers its cleanup: a test context, or node:test's `after` for a whole file. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

/** Starts a server on 127.0.0.1, port 0; everything is closed after the test. */
export async function startServer(t: Cleanup, options: SigverServerOptions = {}): Promise<TestServer> {
  const events = new EventEmitter();
  const given = options.observer;
  const server = createSigverServer({
    port: 0,
    host: '127.0.0.1',
    shutdownGraceMs: 2_000,
    ...options,
    observer: {
      ...given,
      ended(...args) {
        given?.ended?.(...args);
        events.emit('ended');
      },
    },
  });
  const { url, port } = await server.listen();
  const clients = new Set<TestClient>();
  t.after(async () => {
    for (const client of clients) client.ws.terminate();
    await server.close();
  });
  return {
    server,
    url,
    port,
    async connect(dialect = 'v0', clientOptions = {}, path = '/') {
      const client = await TestClient.connect(url + path, dialect, clientOptions);
      clients.add(client);
      void client.closed.then(() => clients.delete(client));
      return client;
    },
    idle() {
      const check = (resolve: () => void): void => {
        if (server.stats().connections === 0) return resolve();
        events.once('ended', () => check(resolve));
      };
      return withTimeout(new Promise<void>(check), 'every connection to end');
    },
    nextEnd() {
      return withTimeout(once(events, 'ended'), 'the server to see a connection end').then(() => undefined);
    },
  };
}
