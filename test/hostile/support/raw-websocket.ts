// A WebSocket client that writes frames byte by byte as the test says: split
// into fragments, trickled, never finished. It does the upgrade itself over
// a plain TCP socket and reads only what the server sends back: pongs, pings
// (answered) and the close frame.

import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { withTimeout } from '../../support/waits.js';

export const OPCODE = { continuation: 0x0, text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** How the connection ended: the server's close frame, or none (reset or dropped). */
export type Ending = { readonly code: number; readonly reason: string } | { readonly code: 'none' };

const MASK = Buffer.from([0x12, 0x34, 0x56, 0x78]);

/** One masked client frame. */
export function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const length = payload.length;
  const first = (fin ? 0x80 : 0) | opcode;
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, 0x80 | length]);
  else if (length < 65_536) header = Buffer.from([first, 0x80 | 126, length >> 8, length & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i += 1) masked[i]! ^= MASK[i % 4]!;
  return Buffer.concat([header, MASK, masked]);
}

export class RawWebSocket {
  /** Bytes written after the upgrade. */
  sent = 0;
  readonly ended: Promise<Ending>;
  private ending: Ending | undefined;
  private inbox = Buffer.alloc(0);
  private pongs: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    this.ended = new Promise((resolve) => {
      socket.once('close', () => resolve((this.ending ??= { code: 'none' })));
    });
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  /** Opens a connection (v0: no subprotocol) and completes the upgrade. */
  static async open(url: string): Promise<RawWebSocket> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port), noDelay: true });
    socket.on('error', () => {});
    const upgraded = new Promise<Buffer>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        if (!head.subarray(0, 12).toString().includes('101')) reject(new Error(head.toString()));
        else resolve(head.subarray(end + 4));
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('closed during the upgrade')));
    });
    socket.write(
      `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const rest = await withTimeout(upgraded, 'the upgrade', 20_000);
    const client = new RawWebSocket(socket);
    if (rest.length > 0) client.read(rest);
    return client;
  }

  get open(): boolean {
    return this.ending === undefined && !this.socket.destroyed;
  }

  /** Writes raw bytes, unless the connection has ended. */
  write(bytes: Buffer): void {
    if (!this.open) return;
    this.sent += bytes.length;
    this.socket.write(bytes);
  }

  /**
   * Sends a ping and resolves once its pong is back (the server has read
   * everything written before it), or the connection has ended.
   */
  async ping(ms = 20_000): Promise<'pong' | 'ended'> {
    if (!this.open) return 'ended';
    const pong = new Promise<'pong'>((resolve) => this.pongs.push(() => resolve('pong')));
    this.write(clientFrame(OPCODE.ping, Buffer.alloc(0)));
    return withTimeout(
      Promise.race([pong, this.ended.then(() => 'ended' as const)]),
      'a pong or the end of the connection',
      ms,
    );
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.inbox = Buffer.concat([this.inbox, chunk]);
    for (;;) {
      if (this.inbox.length < 2) return;
      const opcode = this.inbox[0]! & 0x0f;
      let length = this.inbox[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (this.inbox.length < 4) return;
        length = this.inbox.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (this.inbox.length < 10) return;
        length = Number(this.inbox.readBigUInt64BE(2));
        at = 10;
      }
      if (this.inbox.length < at + length) return;
      const payload = this.inbox.subarray(at, at + length);
      this.inbox = this.inbox.subarray(at + length);
      if (opcode === OPCODE.pong) this.pongs.shift()?.();
      else if (opcode === OPCODE.ping) this.write(clientFrame(OPCODE.pong, payload));
      else if (opcode === OPCODE.close) {
        this.ending ??= {
          code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
          reason: payload.subarray(2).toString(),
        };
        this.socket.end();
      }
    }
  }
}

/** Opens `count` connections, a few at a time; each is destroyed when the test ends. */
export async function openMany(
  t: { after(fn: () => void): void },
  url: string,
  count: number,
): Promise<RawWebSocket[]> {
  const clients: RawWebSocket[] = [];
  t.after(() => clients.forEach((client) => client.destroy()));
  for (let i = 0; i < count; i += 20) {
    const opened = await Promise.all(Array.from({ length: Math.min(20, count - i) }, () => RawWebSocket.open(url)));
    clients.push(...opened);
  }
  return clients;
}

/** Resolves after the event loop has turned once (lets queued writes go out). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
