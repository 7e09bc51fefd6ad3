// Helpers for end-to-end tests of the SDK: data channel waits with time
// limits, and a WebSocket that records what it sends. (A server per test:
// startServer, in server.ts.)

import { withTimeout } from './waits.js';
import { WebSocket } from 'ws';
import type { DataChannelLike, WebSocketConstructor } from '../../src/client/index.js';

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
