// Helpers for end-to-end tests: a real Sigver server per test, data channel
// waits with time limits, and a WebSocket that records what it sends.

import { withTimeout } from './waits.js';
import type { TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { createSigverServer, type SigverServer, type SigverServerOptions } from '../../src/server.js';
import type { DataChannelLike, WebSocketConstructor } from '../../src/client/index.js';

/** Starts a Sigver server on 127.0.0.1, port 0, closed when the test ends. */
export async function startSigver(
  t: TestContext,
  options: SigverServerOptions = {},
): Promise<{ server: SigverServer; url: string; port: number }> {
  const server = createSigverServer({ port: 0, host: '127.0.0.1', shutdownGraceMs: 1_000, ...options });
  const { url, port } = await server.listen();
  t.after(() => server.close());
  return { server, url: `${url}/`, port };
}

/** The next text message on a data channel. */
export function nextMessage(channel: DataChannelLike, what = 'a data channel message'): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve) => {
      const onMessage = (event: { readonly data: unknown }): void => {
        channel.removeEventListener('message', onMessage);
        resolve(typeof event.data === 'string' ? event.data : Buffer.from(event.data as Uint8Array).toString());
      };
      channel.addEventListener('message', onMessage);
    }),
    what,
  );
}

/** Sends `text` on `from` and resolves with what `to` receives. */
export async function roundTrip(from: DataChannelLike, to: DataChannelLike, text: string): Promise<string> {
  const received = nextMessage(to, `"${text}"`);
  from.send(text);
  return received;
}

/** A `ws` WebSocket class that records every frame its instances send. */
export function recordingWebSocket(sent: string[]): WebSocketConstructor {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      const send = this.send.bind(this);
      this.send = ((data: string) => {
        sent.push(data);
        send(data);
      }) as WebSocket['send'];
    }
  };
}
