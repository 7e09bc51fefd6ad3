// A minimal STUN server (RFC 5389 Binding only) on loopback for werift.
//
// werift falls back to a public STUN server (stun.l.google.com) whenever
// none is configured, even with `iceServers: []`; tests must not reach out,
// so every werift peer in them is given this one instead.

import { createSocket } from 'node:dgram';
import { once } from 'node:events';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;

/** Starts a responder on `address`; its socket does not keep the process alive. */
export async function startStunResponder(address = '127.0.0.1'): Promise<{ readonly port: number; close(): void }> {
  const socket = createSocket('udp4');
  socket.on('message', (request, from) => {
    if (
      request.length < 20 ||
      request.readUInt16BE(0) !== BINDING_REQUEST ||
      request.readUInt32BE(4) !== MAGIC_COOKIE
    ) {
      return;
    }
    if (from.family !== 'IPv4') return;
    const response = Buffer.alloc(32);
    response.writeUInt16BE(BINDING_SUCCESS, 0);
    response.writeUInt16BE(12, 2);
    response.writeUInt32BE(MAGIC_COOKIE, 4);
    request.copy(response, 8, 8, 20);
    response.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
    response.writeUInt16BE(8, 22);
    response.writeUInt8(0, 24);
    response.writeUInt8(0x01, 25);
    response.writeUInt16BE(from.port ^ (MAGIC_COOKIE >>> 16), 26);
    const octets = from.address.split('.').map(Number);
    const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    response.writeUInt32BE((address ^ MAGIC_COOKIE) >>> 0, 28);
    socket.send(response, from.port, from.address);
  });
  socket.bind(0, address);
  await once(socket, 'listening');
  socket.unref();
  return { port: socket.address().port, close: () => socket.close() };
}
