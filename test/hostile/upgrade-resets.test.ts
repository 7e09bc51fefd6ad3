// A client whose WebSocket upgrade is refused over HTTP (401, 403, 429, 503,
// and 404 on a wrong path of an attached server) resets the TCP connection,
// at once or after reading the refusal: the reset is absorbed, the server
// lives on, and a pair still completes its handshake. A refused client that
// keeps its half of the connection open does not keep the server's.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { mintAccessToken } from '../../src/ops/access-token.js';
import { createSigverServer, type SigverServer } from '../../src/server.js';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';
import { startServer, type TestServer } from '../support/server.js';
import type { SigverProcess } from '../support/sigver-process.js';
import { spawnSigver } from '../support/sigver-process.js';

const SECRET = 'upgrade-reset-test-secret-of-32-bytes+';

type ResetWhen = 'at once' | 'after the refusal';

interface Target {
  readonly port: number;
  /** The HTTP server whose sockets are watched (undefined: another process's). */
  readonly httpServer?: Server;
}

function upgradeRequest(path: string, headers: Record<string, string>): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The server's side of the next TCP connection it accepts, to wait for its close. */
function nextServerSocket(httpServer: Server): Promise<Socket> {
  return withTimeout(once(httpServer, 'connection'), 'the server to accept').then(([socket]) => socket as Socket);
}

/**
 * Sends an upgrade, resets the connection (at once, or once the refusal's
 * status line arrived, which is returned), and waits until the server has
 * closed its side (in this process) or the client has seen the reset through.
 */
async function upgradeThenReset(
  target: Target,
  when: ResetWhen,
  path = '/',
  headers: Record<string, string> = {},
): Promise<string | undefined> {
  const serverSide = target.httpServer === undefined ? undefined : nextServerSocket(target.httpServer);
  const socket = connect({ host: '127.0.0.1', port: target.port });
  socket.on('error', () => {});
  await withTimeout(once(socket, 'connect'), 'connect');
  socket.write(upgradeRequest(path, headers));
  let status: string | undefined;
  if (when === 'after the refusal') {
    const [chunk] = (await withTimeout(once(socket, 'data'), 'the refusal')) as [Buffer];
    status = chunk.toString('latin1').split('\r\n', 1)[0];
  }
  const closed = once(socket, 'close');
  socket.resetAndDestroy();
  await closed;
  if (serverSide !== undefined) {
    const server = await serverSide;
    // Not events.once: it rejects on the very 'error' event the server must absorb.
    if (!server.destroyed) await withTimeout(closeOf(server), "the server's side to close");
  }
  return status;
}

function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** A v1 host and a v0 joiner complete an offer and answer. */
async function handshake(host: TestClient, joiner: TestClient, key: string): Promise<void> {
  host.send({ key });
  assert.equal(((await host.next()) as { registered?: unknown }).registered, key);
  joiner.send({ joinkey: key });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 1 });
  joiner.send({ offer: { sdp: 'o' } });
  assert.deepEqual(await host.next(), { offer: { sdp: 'o' }, id: 1 });
  host.send({ answer: { sdp: 'a' }, id: 1 });
  assert.deepEqual(await joiner.next(), { answer: { sdp: 'a' } });
}

function targetOf(server: TestServer): Target {
  const httpServer = server.server.httpServer as Server;
  return { port: (httpServer.address() as AddressInfo).port, httpServer };
}

/** Resets both ways, checks the refusal's status, and that the server still pairs. */
async function resetsAbsorbed(
  target: Target,
  expected: string,
  request: { path?: string; headers?: Record<string, string> },
  pair: () => Promise<void>,
): Promise<void> {
  for (let round = 0; round < 3; round += 1) {
    await upgradeThenReset(target, 'at once', request.path, request.headers);
    const status = await upgradeThenReset(target, 'after the refusal', request.path, request.headers);
    assert.equal(status, expected);
  }
  await pair();
}

test('401 without an access token (--auth-secret)', async (t) => {
  const server = await startServer(t, { authSecret: SECRET });
  const token = mintAccessToken(SECRET, { expiresAt: Math.floor(Date.now() / 1000) + 600 });
  await resetsAbsorbed(targetOf(server), 'HTTP/1.1 401 Unauthorized', {}, async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    await handshake(await server.connect('v1', auth), await server.connect('v0', auth), 'after-401');
  });
});

test('403 from an origin not allowed (--allow-origin)', async (t) => {
  const server = await startServer(t, { allowOrigin: ['https://good.example'] });
  const request = { headers: { Origin: 'https://evil.example' } };
  await resetsAbsorbed(targetOf(server), 'HTTP/1.1 403 Forbidden', request, async () => {
    const good = { origin: 'https://good.example' };
    await handshake(await server.connect('v1', good), await server.connect('v0', good), 'after-403');
  });
});

test('429 past the per-address limit', async (t) => {
  const server = await startServer(t, { maxConnectionsPerAddress: 2 });
  const holders = [await server.connect('v0'), await server.connect('v0')];
  await resetsAbsorbed(targetOf(server), 'HTTP/1.1 429 Too Many Requests', {}, async () => {
    for (const holder of holders) await holder.close();
    await server.idle();
    await handshake(await server.connect('v1'), await server.connect('v0'), 'after-429');
  });
});

test('429 past the per-address limit, addresses from X-Forwarded-For (--trust-proxy)', async (t) => {
  const server = await startServer(t, { maxConnectionsPerAddress: 1, trustProxy: true });
  const from = (address: string): { headers: Record<string, string> } => ({
    headers: { 'X-Forwarded-For': address },
  });
  await server.connect('v0', from('203.0.113.7'));
  await resetsAbsorbed(targetOf(server), 'HTTP/1.1 429 Too Many Requests', from('203.0.113.7'), async () => {
    await handshake(
      await server.connect('v1', from('198.51.100.1')),
      await server.connect('v0', from('198.51.100.2')),
      'after-429-proxied',
    );
  });
});

test('503 at --max-connections', async (t) => {
  const server = await startServer(t, { maxConnections: 2 });
  const holders = [await server.connect('v0'), await server.connect('v0')];
  await resetsAbsorbed(targetOf(server), 'HTTP/1.1 503 Service Unavailable', {}, async () => {
    for (const holder of holders) await holder.close();
    await server.idle();
    await handshake(await server.connect('v1'), await server.connect('v0'), 'after-503');
  });
});

/** Sigver attached to an app's server on `/signal`, for one test. */
async function attached(t: TestContext): Promise<{ app: Server; sigver: SigverServer; url: string }> {
  const app = createServer((_request, response) => response.end('app'));
  const sigver = createSigverServer({ server: app, path: '/signal' });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  t.after(async () => {
    await sigver.close();
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });
  return { app, sigver, url: `ws://127.0.0.1:${(app.address() as AddressInfo).port}/signal` };
}

test('404 for a wrong path of a server Sigver is attached to', async (t) => {
  const { app, url } = await attached(t);
  const target = { port: (app.address() as AddressInfo).port, httpServer: app };
  await resetsAbsorbed(target, 'HTTP/1.1 404 Not Found', { path: '/elsewhere' }, async () => {
    const host = await TestClient.connect(url, 'v1');
    const joiner = await TestClient.connect(url);
    t.after(() => {
      host.ws.terminate();
      joiner.ws.terminate();
    });
    await handshake(host, joiner, 'after-404');
  });
});

test('a refused client that keeps its half of the connection open does not keep the server socket', async (t) => {
  const server = await startServer(t, { authSecret: SECRET });
  const { port, httpServer } = targetOf(server);
  const serverSide = nextServerSocket(httpServer!);
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await withTimeout(once(socket, 'connect'), 'connect');
  socket.write(upgradeRequest('/', {}));
  const serverClosed = closeOf(await serverSide);
  const ended = once(socket, 'end');
  socket.resume();
  await withTimeout(ended, 'the refusal to end');
  await withTimeout(serverClosed, 'the server to close its side of a refused upgrade');
});

test('a real sigver process outlives resets after its refusals and still pairs', async (t) => {
  const sigver: SigverProcess = await spawnSigver(t, [
    '--auth-secret',
    SECRET,
    '--allow-origin',
    'https://good.example',
  ]);
  const port = Number(new URL(sigver.url).port);
  for (let round = 0; round < 3; round += 1) {
    for (const when of ['at once', 'after the refusal'] as const) {
      const unauthorized = await upgradeThenReset({ port }, when, '/', { Origin: 'https://good.example' });
      const forbidden = await upgradeThenReset({ port }, when, '/', { Origin: 'https://evil.example' });
      if (when === 'after the refusal') {
        assert.equal(unauthorized, 'HTTP/1.1 401 Unauthorized');
        assert.equal(forbidden, 'HTTP/1.1 403 Forbidden');
      }
    }
  }
  const token = mintAccessToken(SECRET, { expiresAt: Math.floor(Date.now() / 1000) + 600 });
  const good = { origin: 'https://good.example', headers: { authorization: `Bearer ${token}` } };
  const host = await TestClient.connect(sigver.url, 'v1', good);
  const joiner = await TestClient.connect(sigver.url, 'v0', good);
  t.after(() => {
    host.ws.terminate();
    joiner.ws.terminate();
  });
  await handshake(host, joiner, 'after-resets');
  assert.equal(sigver.child.exitCode, null, `sigver exited: ${sigver.stderr.join(' | ')}`);
  assert.equal(sigver.child.signalCode, null);
});
