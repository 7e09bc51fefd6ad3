import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimit } from '../../src/core/rate-limiter.js';
import { CLOSES } from '../../src/protocol/index.js';
import { BYTES_PER_PIECE, PIECES_FREE, ReceiveGuard, type GuardedStream } from '../../src/transport/receive-guard.js';

/** A masked client frame, as a browser sends it. */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length])
      : length < 65_536
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 127]), bigEndian64(length)]);
  return Buffer.concat([header, Buffer.from([1, 2, 3, 4]), payload]);
}

function bigEndian64(n: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(n));
  return bytes;
}

const TEXT = 0x1;
const CONTINUATION = 0x0;
const PING = 0x9;
/** One connection's stream under a guard, its bucket full at time 0, as the gateway keeps it. */
function guarded(limit: RateLimit) {
  const guard = new ReceiveGuard(limit);
  const stream: GuardedStream = { tokens: limit.burst, refilledAt: 0, scanner: undefined };
  return {
    read: (chunk: Buffer, now: number) => guard.read(stream, chunk, now),
    /** Something is unfinished: only then does the stream keep a scanner. */
    get open() {
      return stream.scanner !== undefined;
    },
    get openedAt() {
      return stream.scanner?.openedAt;
    },
  };
}

const generous = () => guarded(new RateLimit(1e12, 1e12));

test('whole frames in any cut leave nothing unfinished', () => {
  const stream = Buffer.concat([
    frame(TEXT, Buffer.alloc(10)),
    frame(TEXT, Buffer.alloc(300)),
    frame(TEXT, Buffer.alloc(70_000)),
  ]);
  for (const size of [1, 7, 100, 1_000, 65_536]) {
    const guard = generous();
    for (let at = 0; at < stream.length; at += size) {
      // Cuts of a few bytes break the pieces rule: only the boundaries are checked here.
      guard.read(stream.subarray(at, at + size), 0);
    }
    assert.equal(guard.open, false, `cut every ${size} bytes`);
  }
});

test('a fragmented message is unfinished until its final fragment; control frames between do not end it', () => {
  const guard = generous();
  assert.equal(guard.read(frame(TEXT, Buffer.from('ab'), false), 5), undefined);
  assert.equal(guard.open, true);
  assert.equal(guard.openedAt, 5);
  guard.read(frame(PING, Buffer.alloc(0)), 6);
  guard.read(frame(CONTINUATION, Buffer.from('cd'), false), 7);
  assert.equal(guard.open, true);
  assert.equal(guard.openedAt, 5, 'the message began at its first fragment');
  guard.read(frame(CONTINUATION, Buffer.from('ef')), 8);
  assert.equal(guard.open, false);
});

test('a message begun at the end of a read of whole ones is timed from that read', () => {
  const guard = generous();
  const big = frame(TEXT, Buffer.alloc(1_000));
  guard.read(big.subarray(0, 500), 1);
  guard.read(Buffer.concat([big.subarray(500), frame(TEXT, Buffer.alloc(10)).subarray(0, 3)]), 2);
  assert.equal(guard.open, true);
  assert.equal(guard.openedAt, 2);
});

test('one-byte fragments are refused after a few dozen', () => {
  const guard = generous();
  let verdict = guard.read(frame(TEXT, Buffer.from('x'), false), 0);
  let fragments = 1;
  while (verdict === undefined) {
    verdict = guard.read(frame(CONTINUATION, Buffer.from('x'), false), 0);
    fragments += 1;
  }
  assert.deepEqual(verdict, CLOSES.TOO_SMALL_PIECES);
  assert.ok(fragments > PIECES_FREE / 2 && fragments <= PIECES_FREE, `refused at fragment ${fragments}`);
});

test('many fragments in one read count one piece each', () => {
  const guard = generous();
  const fragments = [frame(TEXT, Buffer.from('x'), false)];
  for (let i = 0; i < 100; i += 1) fragments.push(frame(CONTINUATION, Buffer.from('x'), false));
  assert.deepEqual(guard.read(Buffer.concat(fragments), 0), CLOSES.TOO_SMALL_PIECES);
});

test('a frame trickled a byte per read is refused; one in reads of a normal size is not', () => {
  const payload = Buffer.alloc(65_536);
  const whole = frame(TEXT, payload);
  const trickled = generous();
  let reads = 0;
  let verdict;
  for (let at = 0; verdict === undefined && at < whole.length; at += 1, reads += 1)
    verdict = trickled.read(whole.subarray(at, at + 1), 0);
  assert.deepEqual(verdict, CLOSES.TOO_SMALL_PIECES);
  assert.ok(reads <= PIECES_FREE + 1, `refused after ${reads} reads`);

  const normal = generous();
  for (let at = 0; at < whole.length; at += BYTES_PER_PIECE + 8) {
    assert.equal(normal.read(whole.subarray(at, at + BYTES_PER_PIECE + 8), 0), undefined);
  }
  assert.equal(normal.open, false);
});

test('the byte budget refuses a read past the burst, and refills at its rate', () => {
  const guard = guarded(new RateLimit(1_000, 2_000));
  const message = frame(TEXT, Buffer.alloc(994));
  assert.equal(message.length, 1_002);
  assert.equal(guard.read(message, 0), undefined);
  assert.deepEqual(guard.read(message, 0), CLOSES.BYTE_RATE);
  assert.equal(guard.read(message, 1_010), undefined, 'about a second later there is room again');
});

test('a read larger than the burst passes from a full budget', () => {
  const guard = guarded(new RateLimit(1_000, 100));
  assert.equal(guard.read(frame(TEXT, Buffer.alloc(500)), 0), undefined);
  assert.deepEqual(guard.read(frame(TEXT, Buffer.alloc(1)), 100), CLOSES.BYTE_RATE);
});

test('streams under one guard keep their own unfinished frames', () => {
  const limit = new RateLimit(1e12, 1e12);
  const guard = new ReceiveGuard(limit);
  const a: GuardedStream = { tokens: limit.burst, refilledAt: 0, scanner: undefined };
  const b: GuardedStream = { tokens: limit.burst, refilledAt: 0, scanner: undefined };
  const big = frame(TEXT, Buffer.alloc(1_000));
  guard.read(a, big.subarray(0, 600), 1);
  assert.notEqual(a.scanner, undefined, 'a keeps a scanner while its frame is unfinished');
  guard.read(b, Buffer.concat([frame(TEXT, Buffer.alloc(10)), big.subarray(0, 100)]), 2);
  assert.notEqual(b.scanner, a.scanner);
  guard.read(a, big.subarray(600), 3);
  assert.equal(a.scanner, undefined, 'a finished its frame: it keeps nothing');
  guard.read(b, big.subarray(100), 4);
  assert.equal(b.scanner, undefined);
  guard.read(a, frame(TEXT, Buffer.alloc(5)), 5);
  assert.equal(a.scanner, undefined, 'a whole frame leaves nothing behind');
});
