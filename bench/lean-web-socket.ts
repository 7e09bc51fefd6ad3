// A lean RFC 6455 client for the load generator: node:net, a prebuilt
// upgrade request, prebuilt masked frames, and a small frame parser.
//
// Why not the `ws` client: on 2 cores the client shares the machine with the
// server, and `ws`'s client (http.ClientRequest for the upgrade, streams for
// every frame) spends more CPU per handshake than a raw `ws` server does, so
// the client saturated first. This one does only what the benchmark needs:
// unfragmented text frames, pongs, and the closing handshake.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
const MAX_HEADER_BYTES = 8_192;

/** Where to connect and which subprotocol to offer. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Subprotocol to offer, or null for none (Sigver's v0). */
  readonly protocol: string | null;
}

/** Parses a `ws://host:port/path` URL into an endpoint. */
export function endpoint(url: string, protocol: string | null): Endpoint {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:') throw new Error(`only ws:// URLs are supported: ${url}`);
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { host, port: Number(parsed.port || 80), path: `${parsed.pathname}${parsed.search}`, protocol };
}

/** What a socket reports to its owner. Plain callbacks: no EventEmitter. */
export interface LeanHandler {
  /** The upgrade succeeded. */
  onOpen(): void;
  /** A text frame's payload (a view into the received bytes). */
  onMessage(payload: Buffer): void;
  /** The connection ended; code 1006 when no close frame was received. */
  onClose(code: number, reason: string): void;
  /** Something went wrong; onClose follows. */
  onError(message: string): void;
}

// One random masking key for the whole run. The server unmasks every frame
// as it would a browser's; prebuilt frames are masked once, up front.
const MASK = randomBytes(4);
const MASK0 = MASK[0] ?? 1;
const MASK1 = MASK[1] ?? 2;
const MASK2 = MASK[2] ?? 3;
const MASK3 = MASK[3] ?? 4;

/** Frames a payload as one masked client frame of the given opcode. */
export function clientFrame(payload: Buffer, opcode = OPCODE_TEXT): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 6 : length < 65_536 ? 8 : 14;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65_536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const maskAt = headerLength - 4;
  frame[maskAt] = MASK0;
  frame[maskAt + 1] = MASK1;
  frame[maskAt + 2] = MASK2;
  frame[maskAt + 3] = MASK3;
  for (let i = 0; i < length; i++) frame[headerLength + i] = (payload[i] ?? 0) ^ (MASK[i & 3] ?? 0);
  return frame;
}

/** A masked text frame carrying the given JSON text. */
export function textFrame(text: string): Buffer {
  return clientFrame(Buffer.from(text, 'utf8'));
}

const upgradeCache = new Map<string, { readonly request: Buffer; readonly accept: string }>();

// A fixed Sec-WebSocket-Key per endpoint: the server still hashes it on
// every upgrade, and the client can check the answer with one comparison.
function upgradeFor(target: Endpoint): { readonly request: Buffer; readonly accept: string } {
  const id = `${target.host}:${target.port}${target.path}|${target.protocol ?? ''}`;
  let upgrade = upgradeCache.get(id);
  if (upgrade === undefined) {
    const key = randomBytes(16).toString('base64');
    const hostHeader = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
    const lines = [
      `GET ${target.path} HTTP/1.1`,
      `Host: ${hostHeader}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
    ];
    if (target.protocol !== null) lines.push(`Sec-WebSocket-Protocol: ${target.protocol}`);
    upgrade = {
      request: Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
      accept: createHash('sha1')
        .update(key + GUID)
        .digest('base64'),
    };
    upgradeCache.set(id, upgrade);
  }
  return upgrade;
}

const CLOSE_NORMAL = clientFrame(Buffer.from([0x03, 0xe8]), OPCODE_CLOSE);

/** One client WebSocket connection. */
export class LeanWebSocket {
  private readonly socket: Socket;
  private pending: Buffer | null = null;
  private open = false;
  private closeSent = false;
  private closeCode = 1006;
  private closeReason = '';
  private ended = false;

  constructor(
    private readonly target: Endpoint,
    private readonly handler: LeanHandler,
  ) {
    const upgrade = upgradeFor(target);
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    this.socket = socket;
    socket.on('connect', () => socket.write(upgrade.request));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.handler.onError(error.message));
    socket.on('close', () => this.finish());
  }

  /** True once the upgrade is done and until a close frame is sent. */
  get isOpen(): boolean {
    return this.open && !this.closeSent;
  }

  /**
   * Writes one or more prebuilt masked frames (see {@link clientFrame});
   * `written` runs once the kernel has them.
   */
  sendFrames(frames: Buffer, written?: () => void): void {
    if (this.isOpen) this.socket.write(frames, written);
  }

  /** Sends a close frame with code 1000; the server's close frame ends the connection. */
  close(): void {
    if (!this.open || this.closeSent) {
      if (!this.open) this.terminate();
      return;
    }
    this.closeSent = true;
    this.socket.write(CLOSE_NORMAL);
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.socket.destroy();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.handler.onClose(this.closeCode, this.closeReason);
  }

  private fail(message: string): void {
    this.handler.onError(message);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    if (!this.open) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        if (data.length > MAX_HEADER_BYTES) this.fail('upgrade response too large');
        else this.pending = data;
        return;
      }
      const head = data.toString('latin1', 0, end);
      if (!this.acceptUpgrade(head)) return;
      this.open = true;
      data = data.subarray(end + 4);
      this.handler.onOpen();
    }
    this.parseFrames(data);
  }

  private acceptUpgrade(head: string): boolean {
    if (!head.startsWith('HTTP/1.1 101')) {
      this.fail(`unexpected server response: ${head.split('\r\n', 1)[0] ?? ''}`);
      return false;
    }
    const lower = head.toLowerCase();
    if (!lower.includes(`sec-websocket-accept: ${upgradeFor(this.target).accept.toLowerCase()}`)) {
      this.fail('invalid Sec-WebSocket-Accept');
      return false;
    }
    const protocol = this.target.protocol;
    if (protocol !== null && !lower.includes(`sec-websocket-protocol: ${protocol}`)) {
      this.fail(`server did not select subprotocol ${protocol}`);
      return false;
    }
    return true;
  }

  private parseFrames(data: Buffer): void {
    let at = 0;
    while (data.length - at >= 2) {
      const b0 = data[at] ?? 0;
      const b1 = data[at + 1] ?? 0;
      if ((b1 & 0x80) !== 0) return this.fail('server frame is masked');
      let length = b1 & 0x7f;
      let headerLength = 2;
      if (length === 126) {
        if (data.length - at < 4) break;
        length = data.readUInt16BE(at + 2);
        headerLength = 4;
      } else if (length === 127) {
        if (data.length - at < 10) break;
        length = Number(data.readBigUInt64BE(at + 2));
        headerLength = 10;
      }
      if (data.length - at < headerLength + length) break;
      const payload = data.subarray(at + headerLength, at + headerLength + length);
      at += headerLength + length;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x80) === 0 || opcode === OPCODE_CONTINUATION) return this.fail('fragmented frames are not expected');
      switch (opcode) {
        case OPCODE_TEXT:
          this.handler.onMessage(payload);
          break;
        case OPCODE_BINARY:
          return this.fail('binary frames are not expected');
        case OPCODE_CLOSE:
          this.onCloseFrame(payload);
          return;
        case OPCODE_PING:
          if (!this.closeSent) this.socket.write(clientFrame(payload, OPCODE_PONG));
          break;
        case OPCODE_PONG:
          break;
        default:
          return this.fail(`unknown opcode ${opcode}`);
      }
    }
    if (at < data.length) this.pending = data.subarray(at);
  }

  private onCloseFrame(payload: Buffer): void {
    this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    this.closeReason = payload.length > 2 ? payload.toString('utf8', 2) : '';
    if (!this.closeSent) {
      // Echo the code, as RFC 6455 section 5.5.1 asks.
      this.closeSent = true;
      this.socket.write(clientFrame(payload.subarray(0, Math.min(payload.length, 2)), OPCODE_CLOSE));
    }
    // The server closes TCP first (RFC 6455 section 7.1.1); allowHalfOpen is
    // off, so its FIN ends our side too and 'close' follows.
  }
}
