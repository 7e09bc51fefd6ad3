// What a connection may make the server hold or spend before a message is
// complete. `ws` keeps every read of an unfinished frame and every fragment of
// an unfinished message, each as its own Buffer of a few hundred bytes,
// however few bytes it carries; and parsing what arrives costs CPU in
// proportion to the bytes. The guard reads the same bytes as `ws`, before it
// does, and finds the frame boundaries itself (headers only: payloads are
// skipped, never copied), so that it knows what `ws` is holding:
//
// - pieces: a message (or frame) still unfinished may be made of at most
//   PIECES_FREE pieces plus one per BYTES_PER_PIECE bytes of it (a piece is
//   a read or a fragment): memory stays within a small multiple of the bytes;
// - time: a message must be finished within `messageTimeoutMs` of its first
//   byte (the owner arms the timer; see `openedAt`);
// - bytes: a token bucket of `byteRate` bytes/s with a `byteBurst` bounds the
//   CPU that one connection can cost.

import type { Bucket, RateLimit } from '../core/rate-limiter.js';
import { CLOSES, type CloseSpec } from '../protocol/index.js';

/** The guard's settings, in the units of the settings table. */
export interface ReceiveLimits {
  /** Bytes per second a connection may send, on average. */
  readonly byteRate: number;
  /** Bytes a connection may send at once, beyond the rate. */
  readonly byteBurst: number;
  /** Longest time a message may take to arrive once it has begun, ms. */
  readonly messageTimeoutMs: number;
}

/** Pieces an unfinished message may always be made of. */
export const PIECES_FREE = 32;
/** Beyond {@link PIECES_FREE}, one more piece per this many bytes of the unfinished message. */
export const BYTES_PER_PIECE = 128;

// Where the scan is in the current frame.
const enum Stage {
  /** First header byte: FIN and opcode. */
  Opcode,
  /** Second header byte: mask bit and 7-bit length. */
  Length,
  /** Extended length bytes, big-endian. */
  ExtendedLength,
  /** Masking key bytes. */
  Mask,
  /** Payload bytes. */
  Payload,
}

/** Opcodes from 0x8 up are control frames (RFC 6455, 5.5): never part of a message. */
const FIRST_CONTROL_OPCODE = 0x8;

// The current frame's header bits and the message's state share one small
// integer: one field per connection instead of four.
/** The current frame's opcode. */
const OPCODE = 0x0f;
/** The current frame is its message's final one. */
const FIN = 0x10;
/** The current frame's payload is masked. */
const MASKED = 0x20;
/** A non-final data frame has been read and its message's final one has not. */
const FRAGMENTED = 0x40;

/**
 * A connection's incoming stream as the guard keeps it: its byte bucket, and
 * a scanner only while a frame or message is unfinished (most reads end on a
 * frame boundary, so an idle connection carries none).
 */
export interface GuardedStream extends Bucket {
  scanner: FrameScanner | undefined;
}

/** Judges each read of the connections of one gateway. */
export class ReceiveGuard {
  /** The scanner a read starts with when its stream has none; kept by the stream if the read leaves something unfinished. */
  private spare = new FrameScanner();

  constructor(private readonly byteLimit: RateLimit) {}

  /** Reads one chunk of `stream` at time `now` (ms); returns the close the connection deserves, if any. */
  read(stream: GuardedStream, chunk: Buffer, now: number): CloseSpec | undefined {
    if (!this.byteLimit.take(stream, now, chunk.length)) return CLOSES.BYTE_RATE;
    const scanner = stream.scanner ?? this.spare;
    const verdict = scanner.read(chunk, now);
    if (!scanner.open) stream.scanner = undefined;
    else if (scanner === this.spare) {
      stream.scanner = scanner;
      this.spare = new FrameScanner();
    }
    return verdict;
  }
}

/**
 * Follows the frames of one connection's incoming stream. One that has
 * nothing unfinished is in the same state as a new one.
 */
export class FrameScanner {
  /** When the unfinished message began (ms, the caller's clock); meaningful while {@link open}. */
  openedAt = 0;

  private stage = Stage.Opcode;
  /** Bytes left of the current header field or payload. */
  private left = 0;
  /** {@link OPCODE}, {@link FIN}, {@link MASKED} and {@link FRAGMENTED}. */
  private bits = 0;
  /** The current frame's payload length. */
  private length = 0;
  /** Pieces and bytes of what is unfinished. */
  private pieces = 0;
  private bytes = 0;

  /** Something is unfinished: `ws` holds part of a frame or message. */
  get open(): boolean {
    return this.stage !== Stage.Opcode || (this.bits & FRAGMENTED) !== 0;
  }

  /** Reads one chunk at time `now` (ms); returns the close the pieces rule gives, if any. */
  read(chunk: Buffer, now: number): CloseSpec | undefined {
    // Offset after which everything is unfinished (0 if it already was before this chunk).
    let unfinishedFrom = this.open ? -1 : 0;
    let fragments = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.stage === Stage.Payload) {
        const skipped = Math.min(this.left, chunk.length - at);
        at += skipped;
        this.left -= skipped;
      } else {
        this.header(chunk[at]!);
        at += 1;
      }
      if (this.stage === Stage.Payload && this.left === 0) {
        this.stage = Stage.Opcode;
        if (this.frameEnded()) fragments += 1;
        if ((this.bits & FRAGMENTED) === 0) {
          unfinishedFrom = at;
          fragments = 0;
        }
      }
    }
    if (!this.open) {
      this.pieces = 0;
      this.bytes = 0;
      return undefined;
    }
    if (unfinishedFrom >= 0) {
      // A message began in this chunk.
      this.openedAt = now;
      this.pieces = 1 + fragments;
      this.bytes = chunk.length - unfinishedFrom;
    } else {
      this.pieces += 1 + fragments;
      this.bytes += chunk.length;
    }
    return this.pieces > PIECES_FREE + this.bytes / BYTES_PER_PIECE ? CLOSES.TOO_SMALL_PIECES : undefined;
  }

  private header(byte: number): void {
    switch (this.stage) {
      case Stage.Opcode:
        this.bits = (this.bits & FRAGMENTED) | ((byte & 0x80) !== 0 ? FIN : 0) | (byte & OPCODE);
        this.stage = Stage.Length;
        return;
      case Stage.Length: {
        if ((byte & 0x80) !== 0) this.bits |= MASKED;
        const length = byte & 0x7f;
        if (length < 126) return this.lengthKnown(length);
        this.stage = Stage.ExtendedLength;
        this.left = length === 126 ? 2 : 8;
        this.length = 0;
        return;
      }
      case Stage.ExtendedLength:
        // Past 2^53 this loses precision: `ws` has refused such a frame long before (--max-frame-bytes).
        this.length = this.length * 256 + byte;
        if (--this.left === 0) this.lengthKnown(this.length);
        return;
      case Stage.Mask:
        if (--this.left === 0) {
          this.stage = Stage.Payload;
          this.left = this.length;
        }
        return;
      case Stage.Payload:
        return;
    }
  }

  private lengthKnown(length: number): void {
    this.length = length;
    if ((this.bits & MASKED) !== 0) {
      this.stage = Stage.Mask;
      this.left = 4;
    } else {
      this.stage = Stage.Payload;
      this.left = length;
    }
  }

  /** A frame's last byte was read; true if it is a fragment that `ws` now holds. */
  private frameEnded(): boolean {
    if ((this.bits & OPCODE) >= FIRST_CONTROL_OPCODE) return false;
    const final = (this.bits & FIN) !== 0;
    this.bits = final ? this.bits & ~FRAGMENTED : this.bits | FRAGMENTED;
    return !final;
  }
}
