// Limits and liveness on real sockets: each misbehaving peer is cut off as
// documented while a well-behaved pair on the same server completes its
// exchange.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startServer, type TestServer } from '../support/server.js';
import { type TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';

/** A v1 pair that completes offer, answer and candidates both ways. */
async function wellBehavedPair(server: TestServer, key: string): Promise<void> {
  const host = await server.connect('v1');
  host.send({ key });
  await host.next();
  const joiner = await server.connect('v1');
  joiner.send({ joinkey: key });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 1 });
  joiner.send({ offer: { sdp: 'offer' } });
  assert.deepEqual(await host.next(), { offer: { sdp: 'offer' }, id: 1 });
  host.send({ answer: { sdp: 'answer' }, id: 1 });
  assert.deepEqual(await joiner.next(), { answer: { sdp: 'answer' } });
  joiner.send({ candidate: 'j' });
  assert.deepEqual(await host.next(), { candidate: 'j', id: 1 });
  host.send({ candidate: 'h' });
  assert.deepEqual(await joiner.next(), { candidate: 'h' });
  await joiner.close();
  await host.close();
}

function socketOf(client: TestClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

test('a flooding peer is closed 1008 "Rate limit exceeded"; its partner and other pairs carry on', async (t) => {
  const server = await startServer(t, { rateLimit: 10, rateBurst: 20 });
  const host = await server.connect('v1');
  host.send({ key: 'flood' });
  await host.next();
  const flooder = await server.connect('v1');
  flooder.send({ joinkey: 'flood' });
  await flooder.next();
  await host.next();
  for (let i = 0; i < 100; i += 1) flooder.send({ candidate: i });
  assert.deepEqual(await flooder.waitClose(), { code: 1008, reason: 'Rate limit exceeded' });
  const relayed: unknown[] = [];
  for (;;) {
    const message = (await host.next()) as { candidate?: number; leave?: number };
    if (message.leave !== undefined) break;
    relayed.push(message.candidate);
  }
  assert.ok(relayed.length >= 19 && relayed.length <= 21, `about the burst was relayed, got ${relayed.length}`);
  await wellBehavedPair(server, 'calm');
});

test('the rate limit refills over time: a steady sender within it is never cut off', async (t) => {
  let now = 0;
  const clock = {
    now: () => now,
    setTimer: (ms: number, fn: () => void) => {
      const timer = setTimeout(fn, ms);
      return { cancel: () => clearTimeout(timer) };
    },
  };
  const server = await startServer(t, { rateLimit: 10, rateBurst: 2, clock });
  const client = await server.connect('v1');
  for (let i = 0; i < 50; i += 1) {
    now += 100; // one message every 100 ms of the server's clock: exactly 10/s
    client.send({ ping: i });
    assert.deepEqual(await client.next(), { pong: i });
  }
});

test('a recipient that stops reading is closed 1008 "Slow consumer"; nobody else is affected', async (t) => {
  const server = await startServer(t, {
    slowConsumerBytes: 64 * 1024,
    rateLimit: 100_000,
    rateBurst: 100_000,
    byteRate: 1_000_000_000,
    byteBurst: 1_000_000_000,
  });
  const host = await server.connect('v1');
  host.send({ key: 'slow' });
  await host.next();
  const slow = await server.connect('v1');
  slow.send({ joinkey: 'slow' });
  await slow.next();
  await host.next();
  socketOf(slow).pause();
  const chunk = 'x'.repeat(60_000);
  // The host receives nothing until the server gives up on the slow joiner.
  let dropped = false;
  const left = host.next(20_000).finally(() => {
    dropped = true;
  });
  for (let sent = 0; !dropped && sent < 2_000; sent += 1) {
    host.send({ candidate: chunk });
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(await left, { leave: 1 });
  socketOf(slow).resume();
  assert.deepEqual(await slow.waitClose(20_000), { code: 1008, reason: 'Slow consumer' });
  assert.equal(server.server.stats().joiners, 0);
  await wellBehavedPair(server, 'fast');
});

test('a reading recipient of a burst larger than the slow-consumer threshold is not cut off', async (t) => {
  const server = await startServer(t, { slowConsumerBytes: 16 * 1024 });
  const host = await server.connect('v1');
  host.send({ key: 'burst' });
  await host.next();
  const joiner = await server.connect('v1');
  joiner.send({ joinkey: 'burst' });
  await joiner.next();
  await host.next();
  // Ten 8 KB frames in one write reach the server together and are relayed in one tick.
  const frames = Array.from({ length: 10 }, (_, i) => JSON.stringify({ candidate: { i, pad: 'x'.repeat(8_000) } }));
  socketOf(joiner).cork();
  for (const frame of frames) joiner.ws.send(frame);
  socketOf(joiner).uncork();
  for (let i = 0; i < 10; i += 1) assert.equal(((await host.next()) as { candidate: { i: number } }).candidate.i, i);
  host.send({ ping: 'still open' });
  assert.deepEqual(await host.next(), { pong: 'still open' });
});

test('a peer that stops answering pings is terminated and its host is told', async (t) => {
  const server = await startServer(t, { heartbeatMs: 50 });
  const host = await server.connect('v1');
  host.send({ key: 'silent' });
  await host.next();
  const joiner = await server.connect('v1');
  joiner.send({ joinkey: 'silent' });
  await joiner.next();
  await host.next();
  // A paused socket reads no ping, so it sends no pong.
  socketOf(joiner).pause();
  assert.deepEqual(await host.next(), { leave: 1 });
  await wellBehavedPair(server, 'alive');
  // Healthy clients answer pings (ws does it for us) and stay connected through many sweeps.
  const steady = await server.connect('v1');
  for (let i = 0; i < 5; i += 1) {
    await once(steady.ws, 'ping');
  }
  steady.send({ ping: 'still here' });
  assert.deepEqual(await steady.next(), { pong: 'still here' });
});

test('a connection that keeps talking is never pinged; a silent one is', async (t) => {
  const server = await startServer(t, { heartbeatMs: 400 });
  const talker = await server.connect('v1');
  const silent = await server.connect('v1');
  let talkerPings = 0;
  talker.ws.on('ping', () => (talkerPings += 1));
  // Paced well inside the interval: the talker is heard between every two sweeps.
  const pace = setInterval(() => talker.send({ ping: 'here' }), 20);
  t.after(() => clearInterval(pace));
  // Two pings to the silent one span at least three sweeps.
  for (let i = 0; i < 2; i += 1) await withTimeout(once(silent.ws, 'ping'), 'a ping to the silent connection');
  clearInterval(pace);
  assert.equal(talkerPings, 0);
});

test('past the connection limit the upgrade is refused with HTTP 503', async (t) => {
  const server = await startServer(t, { maxConnections: 2 });
  await server.connect('v0');
  await server.connect('v1');
  const refused = new WebSocket(server.url);
  const [, response] = (await withTimeout(once(refused, 'unexpected-response'), 'the refusal')) as [
    unknown,
    IncomingMessage,
  ];
  assert.equal(response.statusCode, 503);
  refused.on('error', () => {});
  response.resume();
  refused.terminate();
});

test('an oversized frame closes 1009 in v1 too, and the partner sees the peer leave', async (t) => {
  const server = await startServer(t, { maxFrameBytes: 1024 });
  const host = await server.connect('v1');
  host.send({ key: 'big' });
  await host.next();
  const joiner = await server.connect('v1');
  joiner.send({ joinkey: 'big' });
  await joiner.next();
  await host.next();
  joiner.send({ offer: 'x'.repeat(2_000) });
  assert.equal((await joiner.waitClose()).code, 1009);
  assert.deepEqual(await host.next(), { leave: 1 });
  await wellBehavedPair(server, 'small');
});

test('garbage from one peer does not disturb a pair on the same server', async (t) => {
  const server = await startServer(t);
  const garbage = ['', '{', '[]', 'null', '{"offer":', '\u0000', '{"key":{"a":1}}', '🙂'];
  const victims = await Promise.all(garbage.map(async () => server.connect('v0')));
  victims.forEach((client, i) => client.send(garbage[i]!));
  await Promise.all(victims.map((client) => client.waitClose()));
  await wellBehavedPair(server, 'unbothered');
});
