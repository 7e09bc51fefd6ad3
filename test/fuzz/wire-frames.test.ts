// Fuzzing the WebSocket layer on raw TCP sockets: random frames (any opcode,
// reserved bits, fragmentation, control frames of any size, close codes
// valid and not, masked or not, lengths written long, invalid UTF-8, random
// bytes), cut into random TCP writes, then left open, ended or reset.
// Invariants: the process lives, a well-behaved pair completes its
// handshake meanwhile, and once the sockets are gone nothing is left.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { startServer } from '../support/server.js';
import { encodeFrame, fuzzParameters, heapAfterGc, rawWebSocket, wellBehavedPair, type RawFrame } from './support.js';

const RUNS = 100;

const CLOSE_CODES = [
  0, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1011, 1015, 2999, 3000, 4001, 4999, 5000, 65535,
];

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

const messageArb = fc.oneof(
  fc.constantFrom('a', 'b', null).map((key) => JSON.stringify({ key })),
  fc.constantFrom('a', 'b').map((joinkey) => JSON.stringify({ joinkey })),
  fc
    .record({ kind: fc.constantFrom('offer', 'answer', 'candidate', 'ping'), value: fc.jsonValue({ maxDepth: 2 }) })
    .map(({ kind, value }) => JSON.stringify({ [kind]: value })),
  fc.constantFrom('{"type":"subscribe","topics":["t"]}', '{"type":"publish","topic":"t","data":"x"}'),
  fc.json({ maxDepth: 3 }),
);

const payloadArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: messageArb.map(utf8) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  // Invalid UTF-8: a lone continuation byte, an overlong form, a surrogate, a cut sequence.
  {
    weight: 1,
    arbitrary: fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]).map((b) => new Uint8Array(b)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...CLOSE_CODES), fc.string({ maxLength: 40 }))
      .map(
        ([code, reason]) => new Uint8Array(Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)])),
      ),
  },
  // Longer than a control frame may be (125 bytes).
  { weight: 1, arbitrary: fc.integer({ min: 126, max: 400 }).map((n) => new Uint8Array(n).fill(0x61)) },
);

const frameArb: fc.Arbitrary<RawFrame> = fc.record({
  fin: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  rsv: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  opcode: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(0x0, 0x1, 0x1, 0x2, 0x8, 0x9, 0xa) },
    { weight: 1, arbitrary: fc.constantFrom(0x3, 0x7, 0xb, 0xf) },
  ),
  masked: fc.oneof({ weight: 15, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  payload: payloadArb,
  length: fc.oneof(
    { weight: 10, arbitrary: fc.constant('minimal' as const) },
    { weight: 1, arbitrary: fc.constantFrom('16' as const, '64' as const) },
  ),
});

/** What one socket sends: frames, or now and then bytes that are no frame at all, or a header promising more than the limit. */
const pieceArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 12, arbitrary: frameArb.map(encodeFrame) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 32 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    // A text frame announcing 2^32 + 5 bytes (or 70 000), masked, with a few bytes of it.
    arbitrary: fc.constantFrom(
      Buffer.from([0x81, 0xff, 0, 0, 0, 1, 0, 0, 0, 5, 1, 2, 3, 4, 0x61]),
      Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 1, 0x11, 0x70, 1, 2, 3, 4, 0x61]),
    ),
  },
);

type SocketSpec = typeof socketArb extends fc.Arbitrary<infer T> ? T : never;

/** Frames a browser could send, fragmented or not, with pings and pongs between: the sockets that live long. */
const politeFrameArb: fc.Arbitrary<Buffer> = fc
  .record({
    text: messageArb,
    /** Fragments the message is cut into. */
    parts: fc.integer({ min: 1, max: 4 }),
    /** A ping or pong between fragments. */
    control: fc.constantFrom(undefined, 0x9, 0xa),
  })
  .map(({ text, parts, control }) => {
    const bytes = Buffer.from(text);
    const step = Math.ceil(bytes.length / parts) || 1;
    const frames: Buffer[] = [];
    for (let at = 0; at < bytes.length || frames.length === 0; at += step) {
      const last = at + step >= bytes.length;
      const payload = new Uint8Array(bytes.subarray(at, at + step));
      frames.push(
        encodeFrame({ fin: last, rsv: 0, opcode: at === 0 ? 0x1 : 0x0, masked: true, payload, length: 'minimal' }),
      );
      if (control !== undefined && !last) {
        frames.push(
          encodeFrame({ fin: true, rsv: 0, opcode: control, masked: true, payload: utf8('x'), length: 'minimal' }),
        );
      }
    }
    return Buffer.concat(frames);
  });

const socketArb = fc.record({
  subprotocol: fc.constantFrom<string | undefined>(undefined, 'sigver.v1'),
  pieces: fc.oneof(
    fc.array(pieceArb, { minLength: 1, maxLength: 12 }),
    // Polite frames, then maybe one hostile piece at the end.
    fc
      .tuple(fc.array(politeFrameArb, { minLength: 1, maxLength: 12 }), fc.option(pieceArb, { freq: 2 }))
      .map(([polite, last]) => (last === null ? polite : [...polite, last])),
  ),
  /** Sizes of the TCP writes the bytes are cut into (cycled). */
  cuts: fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 6 }),
  then: fc.constantFrom('stay', 'end', 'reset'),
});

const PING = encodeFrame({ fin: true, rsv: 0, opcode: 0x9, masked: true, payload: utf8('sync'), length: 'minimal' });
const PONG = Buffer.from([0x8a, 0x04, ...Buffer.from('sync')]);

/** Writes what `spec` says, then a ping; resolves with how the socket answered the ping. */
function play(socket: Socket, spec: SocketSpec): Promise<'pong' | 'closed' | 'waiting'> {
  let received = Buffer.alloc(0);
  // The pong (or the end of the connection) shows that every fuzzed byte before it was read.
  const synced = new Promise<'pong' | 'closed' | 'waiting'>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]).subarray(-64);
      if (received.includes(PONG)) resolve('pong');
    });
    socket.once('close', () => resolve('closed'));
    // A header can leave the server waiting for payload bytes that never come
    // (until the message timeout): then the ping is read as payload.
    setTimeout(() => resolve('waiting'), 1_500).unref();
  });
  const bytes = Buffer.concat([...spec.pieces, PING]);
  for (let at = 0, cut = 0; at < bytes.length; cut += 1) {
    const size = spec.cuts[cut % spec.cuts.length]!;
    socket.write(bytes.subarray(at, at + size));
    at += size;
  }
  if (spec.then === 'end') socket.end();
  if (spec.then === 'reset') socket.resetAndDestroy();
  return synced;
}

test(
  `random WebSocket frames on raw TCP sockets (${RUNS} runs): the server lives, a pair completes meanwhile, nothing is left`,
  { timeout: 120_000 },
  async (t) => {
    const server = await startServer(t);
    await wellBehavedPair(server.url, server.url);
    const baseline = heapAfterGc();
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(socketArb, { minLength: 1, maxLength: 3 }), async (specs) => {
        const sockets = await Promise.all(specs.map((spec) => rawWebSocket(server.url, spec.subprotocol)));
        const played = specs.map((spec, i) => play(sockets[i]!, spec));
        // Whatever those sockets do, another pair signals as usual, while they are still there.
        await wellBehavedPair(server.url, server.url);
        for (const outcome of await Promise.all(played)) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        await wellBehavedPair(server.url, server.url);
        for (const socket of sockets) socket.destroy();
        await server.idle();
        const stats = server.server.stats();
        assert.equal(stats.connections, 0);
        assert.equal(stats.joiners, 0);
        assert.equal(stats.keys, stats.hostsAway, 'only hosts within their grace keep a key');
      }),
      fuzzParameters(RUNS),
    );
    const grown = heapAfterGc() - baseline;
    t.diagnostic(`heap after the runs: ${(grown / 2 ** 20).toFixed(2)} MiB above the baseline`);
    assert.ok(grown < 16 * 2 ** 20, `the heap grew by ${grown} bytes over ${RUNS} runs`);
    t.diagnostic(`fuzzed sockets after their bytes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  },
);
