// The baseline Sigver is measured against: a minimal raw-`ws` forwarder that
// pairs sockets by key and relays frames without parsing them.
//
// What it does, and nothing more:
// - It parses only the first frame of a connection, to learn `key` or
//   `joinkey`. Every later frame is relayed as the same bytes.
// - So that one load generator drives both servers, it sends the few replies
//   that the client waits for: `{"reachable":"true"}` to a joiner; to a
//   `sigver.v1` host `{"registered":K}` after its key and `{"join":n}` when
//   joiner n attaches.
// - A joiner's frames go to the host untouched. Only when a key has more
//   than one joiner (the fan-in workload) are joiner n>=2's frames tagged
//   with `,"id":n` spliced before the final `}`, and a host's frame is
//   routed by the `"id":n` at its end; with one joiner, host frames go to it
//   untouched. Joiner 1 is never tagged, so an untagged frame is joiner 1's.
// - It does no validation, limits, ids on the wire beyond the above,
//   heartbeats or error replies; a closed socket is simply forgotten.
//
// Usage: node raw-forwarder.js --port 0 --host 127.0.0.1
// Prints `raw-forwarder listening on ws://HOST:PORT` when ready; exits 0 on
// SIGTERM or SIGINT.
import { parseArgs } from 'node:util';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

const V1 = 'sigver.v1';
const REACHABLE = '{"reachable":"true"}';
const CLOSE_BRACE = 0x7d;

interface Slot {
  readonly host: WebSocket;
  readonly hostV1: boolean;
  readonly joiners: Map<number, WebSocket>;
  lastId: number;
}

const slots = new Map<string, Slot>();

function asBuffer(data: RawData): Buffer {
  // ws hands over one Buffer per text message unless binaryType is changed.
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** Splices `,"id":n` before the final `}` of a JSON object frame. */
function tagWithId(frame: Buffer, id: number): Buffer {
  let end = frame.length - 1;
  while (end > 0 && frame[end] !== CLOSE_BRACE) end--;
  return Buffer.concat([frame.subarray(0, end), Buffer.from(`,"id":${id}}`), frame.subarray(end + 1)]);
}

/** Reads the integer of a trailing `"id":n}`, or 1 when there is none. */
function trailingId(frame: Buffer): number {
  const at = frame.lastIndexOf('"id":');
  if (at < 0) return 1;
  let id = 0;
  for (let i = at + 5; i < frame.length; i++) {
    const digit = (frame[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) break;
    id = id * 10 + digit;
  }
  return id;
}

function becomeHost(ws: WebSocket, key: string): void {
  const hostV1 = ws.protocol === V1;
  const slot: Slot = { host: ws, hostV1, joiners: new Map(), lastId: 0 };
  slots.set(key, slot);
  if (hostV1) ws.send(`{"registered":${JSON.stringify(key)}}`);
  ws.on('message', (data, isBinary) => {
    if (slot.joiners.size === 1) {
      for (const joiner of slot.joiners.values()) joiner.send(data, { binary: isBinary });
      return;
    }
    const frame = asBuffer(data);
    slot.joiners.get(trailingId(frame))?.send(frame, { binary: isBinary });
  });
  ws.on('close', () => {
    if (slots.get(key) === slot) slots.delete(key);
  });
}

function becomeJoiner(ws: WebSocket, key: string): void {
  const slot = slots.get(key);
  if (slot === undefined) {
    ws.close(1008, 'The key does not exist');
    return;
  }
  const id = ++slot.lastId;
  slot.joiners.set(id, ws);
  if (slot.hostV1) slot.host.send(`{"join":${id}}`);
  ws.send(REACHABLE);
  ws.on('message', (data, isBinary) => {
    slot.host.send(id === 1 ? data : tagWithId(asBuffer(data), id), { binary: isBinary });
  });
  ws.on('close', () => {
    slot.joiners.delete(id);
  });
}

function main(): void {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
    strict: true,
  });
  const wss = new WebSocketServer({
    host: values.host,
    port: Number(values.port),
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: 65_536,
    handleProtocols: (protocols) => (protocols.has(V1) ? V1 : false),
  });
  wss.on('connection', (ws) => {
    ws.once('message', (data) => {
      let first: unknown;
      try {
        first = JSON.parse(asBuffer(data).toString());
      } catch {
        ws.close(1003, 'Server accepts only JSON');
        return;
      }
      if (typeof first === 'object' && first !== null && 'key' in first) becomeHost(ws, String(first.key));
      else if (typeof first === 'object' && first !== null && 'joinkey' in first)
        becomeJoiner(ws, String(first.joinkey));
      else ws.close(1007, 'Unsupported message format');
    });
  });
  wss.on('listening', () => {
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`);
    process.stdout.write(`raw-forwarder listening on ws://${values.host}:${address.port}\n`);
  });
  const stop = (): void => {
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
