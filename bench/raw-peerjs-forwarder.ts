// The baseline of the PeerJS workload: a minimal raw-`ws` server that does
// what the PeerJS client needs from its server and nothing more.
//
// - The socket's `id` query parameter registers the connection (OPEN; no
//   check that the id is free, no key, no token).
// - A frame is parsed to find its `dst` and relayed, with `src` set, to
//   that id's socket: no mailbox, no EXPIRE, no validation, no limits, no
//   heartbeats; a closed socket frees its id.
//
// Usage: node raw-peerjs-forwarder.js --port 0 --host 127.0.0.1
// Prints `raw-peerjs-forwarder listening on ws://HOST:PORT` when ready.
import type { IncomingMessage } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

const peers = new Map<string, WebSocket>();

function onConnection(ws: WebSocket, request: IncomingMessage): void {
  const id = new URL(request.url ?? '/', 'http://x').searchParams.get('id') ?? '';
  peers.set(id, ws);
  ws.send('{"type":"OPEN"}');
  ws.on('message', (data: RawData) => {
    let message: { type?: unknown; dst?: unknown; payload?: unknown };
    try {
      message = JSON.parse(String(data)) as typeof message;
    } catch {
      return;
    }
    if (typeof message.dst !== 'string') return;
    peers
      .get(message.dst)
      ?.send(JSON.stringify({ type: message.type, src: id, dst: message.dst, payload: message.payload }));
  });
  ws.on('close', () => {
    if (peers.get(id) === ws) peers.delete(id);
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
  });
  wss.on('connection', onConnection);
  wss.on('listening', () => {
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`);
    process.stdout.write(`raw-peerjs-forwarder listening on ws://${values.host}:${address.port}\n`);
  });
  const stop = (): void => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
