// The embeddable server: listening, attaching to an app's HTTP server,
// health, and shutdown.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createSigverServer } from '../../src/server.js';
import { SettingError } from '../../src/options.js';
import { TestClient } from '../support/client.js';
import { startServer } from '../support/server.js';

test('close() sends every connection 1001 "Server shutting down" and nothing else', async (t) => {
  const server = await startServer(t);
  const v0host = await server.connect('v0');
  v0host.send({ key: 'v0' });
  const v0joiner = await server.connect('v0');
  v0joiner.send({ joinkey: 'v0' });
  await v0joiner.next();
  const v1host = await server.connect('v1');
  v1host.send({ key: 'v1' });
  await v1host.next();
  const v1joiner = await server.connect('v1');
  v1joiner.send({ joinkey: 'v1' });
  await v1joiner.next();
  await v1host.next();
  const idle = await server.connect('v1');

  await server.server.close();
  for (const client of [v0host, v0joiner, v1host, v1joiner, idle]) {
    assert.deepEqual(await client.waitClose(), { code: 1001, reason: 'Server shutting down' });
    assert.deepEqual(client.pending, [], 'no leave or peer-gone message on the way out');
  }
  assert.deepEqual(server.server.stats(), { connections: 0, keys: 0, joiners: 0, hostsAway: 0 });
});

test('close() resolves only once every socket is closed, terminating laggards after the grace', async (t) => {
  const server = await startServer(t, { shutdownGraceMs: 100 });
  const client = await server.connect('v1');
  // A paused socket never answers the close frame.
  (client.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  await server.server.close();
  assert.equal(server.server.stats().connections, 0);
});

test('GET /health answers JSON with status, uptime, connections and keys', async (t) => {
  const server = await startServer(t);
  const host = await server.connect('v0');
  host.send({ key: 'h' });
  const joiner = await server.connect('v0');
  joiner.send({ joinkey: 'h' });
  await joiner.next();
  const response = await fetch(server.url.replace('ws:', 'http:') + '/health');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.status, 'ok');
  assert.equal(typeof body.uptimeSeconds, 'number');
  assert.equal(body.connections, 2);
  assert.equal(body.keys, 1);
  const missing = await fetch(server.url.replace('ws:', 'http:') + '/nope');
  assert.equal(missing.status, 404);
});

test('attaches to an existing HTTP server under a path, leaving the rest to the app', async (t) => {
  const app = createServer((_request, response) => response.end('app page'));
  const sigver = createSigverServer({ server: app, path: '/signal' });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  t.after(async () => {
    await sigver.close();
    await new Promise((resolve) => app.close(resolve));
  });
  const { port } = app.address() as AddressInfo;
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/health`)).text(), 'app page');
  const host = await TestClient.connect(`ws://127.0.0.1:${port}/signal`, 'v1');
  host.send({ key: 'attached' });
  assert.equal(((await host.next()) as { registered: string }).registered, 'attached');
  // Other paths are not Sigver's; with no other upgrade listener they get 404.
  const other = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
  other.on('error', () => {});
  const [, response] = (await once(other, 'unexpected-response')) as [unknown, IncomingMessage];
  assert.equal(response.statusCode, 404);
  response.resume();
  other.terminate();
  await host.close();
  await assert.rejects(sigver.listen(), /attached/);
});

test('bad options throw a SettingError naming the field', () => {
  assert.throws(() => createSigverServer({ maxJoiners: 0 }), SettingError);
  assert.throws(() => createSigverServer({ port: 70_000 }), /port/);
  assert.throws(() => createSigverServer({ rateLimit: 1.5 }), /rateLimit/);
  assert.throws(() => createSigverServer({ unknownThing: 1 } as never), /unknownThing/);
});

test('listen() rejects with EADDRINUSE when the port is taken', async (t) => {
  const server = await startServer(t);
  const port = Number(new URL(server.url).port);
  const second = createSigverServer({ port, host: '127.0.0.1' });
  await assert.rejects(second.listen(), { code: 'EADDRINUSE' });
  await second.close();
});
