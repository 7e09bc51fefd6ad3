// A WebSocket test client that queues what it receives, so a test can await
// the next message or the close, each with a timeout: no sleeps.

import { WAIT_MS, withTimeout } from './waits.js';
import { once } from 'node:events';
import WebSocket from 'ws';
import { V1_SUBPROTOCOL, type Dialect } from '../../src/protocol/index.js';

/** A close as the client saw it. */
export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A raw client for tests. */
export class TestClient {
  private readonly inbox: string[] = [];
  private waiter: ((text: string) => void) | undefined;
  readonly closed: Promise<Closed>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = undefined;
        waiter(text);
      } else {
        this.inbox.push(text);
      }
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('error', () => {});
  }

  /** Opens a connection in the given dialect (v1 offers the `sigver.v1` subprotocol). */
  static async connect(
    url: string,
    dialect: Dialect = 'v0',
    options: WebSocket.ClientOptions = {},
  ): Promise<TestClient> {
    const ws = dialect === 'v1' ? new WebSocket(url, V1_SUBPROTOCOL, options) : new WebSocket(url, options);
    const client = new TestClient(ws);
    await withTimeout(once(ws, 'open'), 'open');
    return client;
  }

  /** Sends a value as JSON text, or a string as is. */
  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The next text frame received, raw. */
  nextText(ms = WAIT_MS): Promise<string> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return withTimeout(
      new Promise<string>((resolve, reject) => {
        this.waiter = resolve;
        void this.closed.then((c) => reject(new Error(`closed ${c.code} ${c.reason} while waiting for a message`)));
      }),
      'message',
      ms,
    );
  }

  /** The next message received, parsed. */
  async next(ms = WAIT_MS): Promise<unknown> {
    return JSON.parse(await this.nextText(ms));
  }

  /** Waits for the connection to close and returns its code and reason. */
  waitClose(ms = WAIT_MS): Promise<Closed> {
    return withTimeout(this.closed, 'close', ms);
  }

  /** Messages received and not yet read. */
  get pending(): readonly string[] {
    return this.inbox;
  }

  /** Closes with a close frame (a host leaving on purpose). */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.waitClose();
  }

  /** Drops the TCP connection with no close frame (a network failure). */
  async drop(): Promise<void> {
    this.ws.terminate();
    await this.waitClose();
  }
}
