// Real redis-server processes for tests: each on a free loopback port, with
// no persistence, killed when the test ends. Readiness is awaited by pinging.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import type { Cleanup } from '../support/server.js';
import { withTimeout } from '../support/waits.js';

export type { Cleanup } from '../support/server.js';

/** A free TCP port on 127.0.0.1 (free when asked; tests on one machine rarely race for it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One redis-server that a test can kill and start again on the same port. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** `redis://127.0.0.1:PORT` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a server for the test (or suite) `t`; it is killed after. */
  static async start(t: Cleanup): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    t.after(() => server.kill());
    await server.start();
    return server;
  }

  /** Starts the server (again) and resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()],
      { stdio: 'ignore' },
    );
    this.child = child;
    const died = once(child, 'exit').then(([code]) => {
      throw new Error(`redis-server on port ${this.port} exited with ${String(code)}`);
    });
    died.catch(() => {});
    await withTimeout(Promise.race([answersPing(this.port), died]), `redis-server on port ${this.port}`, 10_000);
  }

  /** Kills the server at once (SIGKILL: nothing is saved) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills the server and starts a new, empty one on the same port. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }
}

/** Resolves when a client reaches the server and gets PONG; the client retries every 20 ms until then. */
async function answersPing(port: number): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 20, maxRetriesPerRequest: null });
  client.on('error', () => {});
  try {
    await client.ping();
  } finally {
    client.disconnect();
  }
}

/**
 * One redis-server shared by a whole test file: started before its first
 * test, killed after its last. Returns its URL, valid once tests run.
 */
export function redisForFile(): { readonly url: string } {
  let server: RedisServer | undefined;
  const stops: Array<() => unknown> = [];
  before(async () => {
    server = await RedisServer.start({ after: (stop) => stops.push(stop) });
  });
  after(async () => {
    for (const stop of stops) await stop();
  });
  return {
    get url() {
      if (server === undefined) throw new Error("the file's redis-server is not started yet");
      return server.url;
    },
  };
}
