// Shared by the fuzz suite: a well-behaved pair whose handshake must complete
// whatever the fuzzed clients did, raw WebSocket frames written by hand on a
// TCP socket, the fast-check settings (fixed run counts, seed printed on
// failure), and the heap measured after a full garbage collection.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type fc from 'fast-check';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';

/**
 * fast-check parameters: a fixed number of runs, a seed from FUZZ_SEED when
 * given (to replay a failure: FUZZ_SEED=S), and the seed printed with any failure.
 */
export function fuzzParameters<T>(numRuns: number): fc.Parameters<T> {
  const given = process.env.FUZZ_SEED;
  // fast-check's failure message starts with the seed and the path: "{ seed: S, path: P }".
  return {
    numRuns,
    ...(given === undefined ? {} : { seed: Number(given) }),
    // Shrinking replays the property many times over real sockets: the first counterexample says enough.
    endOnFailure: true,
  };
}

let pairs = 0;

/**
 * A v1 host on `hostUrl` and a v1 joiner on `joinUrl` complete a handshake:
 * join, offer, answer, a candidate each way. Throws on anything else.
 */
export async function wellBehavedPair(hostUrl: string, joinUrl: string, ms = 10_000): Promise<void> {
  const key = `well-behaved-${process.pid}-${++pairs}`;
  const host = await TestClient.connect(hostUrl, 'v1');
  const joiner = await TestClient.connect(joinUrl, 'v1');
  try {
    host.send({ key });
    assert.equal(((await host.next(ms)) as { registered?: string }).registered, key, 'registered');
    joiner.send({ joinkey: key });
    assert.deepEqual(await joiner.next(ms), { reachable: 'true' });
    assert.deepEqual(await host.next(ms), { join: 1 });
    joiner.send({ offer: { sdp: `offer ${key}` } });
    assert.deepEqual(await host.next(ms), { offer: { sdp: `offer ${key}` }, id: 1 });
    host.send({ answer: { sdp: `answer ${key}` }, id: 1 });
    assert.deepEqual(await joiner.next(ms), { answer: { sdp: `answer ${key}` } });
    joiner.send({ candidate: { candidate: `j ${key}` } });
    assert.deepEqual(await host.next(ms), { candidate: { candidate: `j ${key}` }, id: 1 });
    host.send({ candidate: { candidate: `h ${key}` }, id: 1 });
    assert.deepEqual(await joiner.next(ms), { candidate: { candidate: `h ${key}` } });
  } finally {
    await Promise.all([host.close().catch(() => {}), joiner.close().catch(() => {})]);
  }
}

/** One WebSocket frame, as bytes on the wire. */
export interface RawFrame {
  readonly fin: boolean;
  /** The three reserved bits (must be 0 without an extension). */
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Uint8Array;
  /** How the length is written: the shortest form, or a longer one than needed (legal for the reader to refuse). */
  readonly length: 'minimal' | '16' | '64';
}

/** Encodes a frame; the mask key is random. */
export function encodeFrame(frame: RawFrame): Buffer {
  const { payload } = frame;
  const size = payload.length;
  const form = frame.length === 'minimal' ? (size < 126 ? '7' : size < 65_536 ? '16' : '64') : frame.length;
  const header: number[] = [(frame.fin ? 0x80 : 0) | ((frame.rsv & 7) << 4) | (frame.opcode & 0x0f)];
  const maskBit = frame.masked ? 0x80 : 0;
  if (form === '7') header.push(maskBit | size);
  else if (form === '16') header.push(maskBit | 126, (size >> 8) & 0xff, size & 0xff);
  else {
    header.push(maskBit | 127, 0, 0, 0, 0);
    header.push((size >>> 24) & 0xff, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff);
  }
  if (!frame.masked) return Buffer.concat([Buffer.from(header), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i += 1) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([Buffer.from(header), mask, body]);
}

/**
 * Opens a TCP connection to a `ws://` URL and completes the upgrade by hand
 * (optionally with the v1 subprotocol). Resolves with the socket once the
 * 101 response has been read; what follows it is the server's frames.
 */
export async function rawWebSocket(url: string, subprotocol?: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  await withTimeout(once(socket, 'connect'), 'TCP connect');
  const lines = [
    'GET / HTTP/1.1',
    `Host: ${hostname}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...(subprotocol === undefined ? [] : [`Sec-WebSocket-Protocol: ${subprotocol}`]),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  let head = '';
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        else resolve();
      };
      socket.on('data', onData);
    }),
    'the 101 response',
  );
  return socket;
}

/** The heap in use after a full garbage collection, bytes. */
export function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Polls `condition` every 25 ms until it holds; rejects after `ms`. For states that raise no event. */
export async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
