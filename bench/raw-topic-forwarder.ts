// The baseline of the y-webrtc workload: a minimal raw-`ws` pub/sub server
// that does what y-webrtc's client needs from its signaling server and
// nothing more.
//
// - `subscribe`/`unsubscribe` frames are parsed to keep each topic's set of
//   sockets; `{"type":"ping"}` gets `{"type":"pong"}`.
// - A `publish` frame is parsed only to find its topic, then relayed as the
//   same bytes to every other subscriber: no `clients` count, no
//   validation, no limits, no heartbeats; a closed socket leaves its topics.
//
// Usage: node raw-topic-forwarder.js --port 0 --host 127.0.0.1
// Prints `raw-topic-forwarder listening on ws://HOST:PORT` when ready.
import { parseArgs } from 'node:util';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

const topics = new Map<string, Set<WebSocket>>();

function asBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

function onConnection(ws: WebSocket): void {
  const mine = new Set<string>();
  ws.on('message', (data) => {
    const frame = asBuffer(data);
    let message: { type?: unknown; topics?: unknown; topic?: unknown };
    try {
      message = JSON.parse(frame.toString()) as typeof message;
    } catch {
      return;
    }
    if (message.type === 'publish' && typeof message.topic === 'string') {
      for (const other of topics.get(message.topic) ?? []) if (other !== ws) other.send(frame, { binary: false });
    } else if (message.type === 'subscribe' && Array.isArray(message.topics)) {
      for (const topic of message.topics) {
        if (typeof topic !== 'string') continue;
        let set = topics.get(topic);
        if (set === undefined) topics.set(topic, (set = new Set()));
        set.add(ws);
        mine.add(topic);
      }
    } else if (message.type === 'unsubscribe' && Array.isArray(message.topics)) {
      for (const topic of message.topics) if (typeof topic === 'string' && mine.delete(topic)) leave(topic, ws);
    } else if (message.type === 'ping') ws.send('{"type":"pong"}');
  });
  ws.on('close', () => {
    for (const topic of mine) leave(topic, ws);
  });
}

function leave(topic: string, ws: WebSocket): void {
  const set = topics.get(topic);
  set?.delete(ws);
  if (set?.size === 0) topics.delete(topic);
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
  });
  wss.on('connection', onConnection);
  wss.on('listening', () => {
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`);
    process.stdout.write(`raw-topic-forwarder listening on ws://${values.host}:${address.port}\n`);
  });
  const stop = (): void => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
