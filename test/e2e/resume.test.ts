// v1 resume on real sockets: the grace after a dropped host, HOST_AWAY,
// token takeover and expiry (PROTOCOL.md, "Resume").

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, type TestServer } from '../support/server.js';
import type { TestClient } from '../support/client.js';

async function expectError(client: TestClient, code: string): Promise<void> {
  const message = (await client.next()) as { error?: { code?: unknown } };
  assert.equal(message.error?.code, code, `expected error ${code}, got ${JSON.stringify(message)}`);
}

/** Drops the host's TCP connection and waits until the server has seen it go. */
async function dropHost(server: TestServer, host: TestClient): Promise<void> {
  const seen = server.nextEnd();
  await host.drop();
  await seen;
}

async function setup(
  server: TestServer,
  joiners = 1,
): Promise<{ host: TestClient; token: string; joiners: TestClient[] }> {
  const host = await server.connect('v1');
  host.send({ key: 'resumable' });
  const { token } = (await host.next()) as { token: string };
  const list: TestClient[] = [];
  for (let i = 0; i < joiners; i += 1) {
    const joiner = await server.connect('v1');
    joiner.send({ joinkey: 'resumable' });
    assert.deepEqual(await joiner.next(), { reachable: 'true' });
    assert.deepEqual(await host.next(), { join: i + 1 });
    list.push(joiner);
  }
  return { host, token, joiners: list };
}

test('a dropped host resumes with its token; joiners stay attached with their ids', async (t) => {
  const server = await startServer(t);
  const { host, token, joiners } = await setup(server, 3);
  await joiners[1]!.close();
  assert.deepEqual(await host.next(), { leave: 2 });
  joiners[2]!.send({ offer: 'pending' });
  assert.deepEqual(await host.next(), { offer: 'pending', id: 3 });
  await dropHost(server, host);

  const again = await server.connect('v1');
  again.send({ key: 'resumable', token });
  assert.deepEqual(await again.next(), { registered: 'resumable', token });
  assert.deepEqual(await again.next(), { join: 1 });
  assert.deepEqual(await again.next(), { join: 3 });
  again.send({ answer: 'kept in queue' });
  assert.deepEqual(await joiners[2]!.next(), { answer: 'kept in queue' });
  joiners[0]!.send({ candidate: 'c' });
  assert.deepEqual(await again.next(), { candidate: 'c', id: 1 });
  const late = await server.connect('v1');
  late.send({ joinkey: 'resumable' });
  await late.next();
  assert.deepEqual(await again.next(), { join: 4 }, 'ids keep counting across resumes');
});

test('while the host is away, its key answers HOST_AWAY and cannot be registered', async (t) => {
  const server = await startServer(t);
  const { host, joiners } = await setup(server);
  const v0joiner = await server.connect('v0');
  v0joiner.send({ joinkey: 'resumable' });
  await v0joiner.next();
  await host.next();
  await dropHost(server, host);

  joiners[0]!.send({ offer: 'o' });
  await expectError(joiners[0]!, 'HOST_AWAY');
  joiners[0]!.send({ answer: 'a' });
  await expectError(joiners[0]!, 'HOST_AWAY');
  joiners[0]!.send({ candidate: 'c' });
  await expectError(joiners[0]!, 'HOST_AWAY');

  const newcomer = await server.connect('v1');
  newcomer.send({ joinkey: 'resumable' });
  await expectError(newcomer, 'HOST_AWAY');
  newcomer.send({ key: 'resumable' });
  await expectError(newcomer, 'KEY_TAKEN');
  newcomer.send({ key: 'resumable', token: 'wrong' });
  await expectError(newcomer, 'KEY_TAKEN');
  newcomer.send({ key: 'resumable', token: 12 });
  await expectError(newcomer, 'KEY_TAKEN');

  const v0newcomer = await server.connect('v0');
  v0newcomer.send({ joinkey: 'resumable' });
  assert.deepEqual(await v0newcomer.waitClose(), { code: 1008, reason: 'The key does not exist' });
  v0joiner.send({ offer: 'o' });
  assert.deepEqual(await v0joiner.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
});

test('HOST_AWAY takes precedence over KEY_FULL', async (t) => {
  const server = await startServer(t, { maxJoiners: 1 });
  const { host } = await setup(server);
  await dropHost(server, host);
  const newcomer = await server.connect('v1');
  newcomer.send({ joinkey: 'resumable' });
  await expectError(newcomer, 'HOST_AWAY');
});

test('a resume while the old connection is open replaces it with 4001', async (t) => {
  const server = await startServer(t);
  const { host, token, joiners } = await setup(server);
  const again = await server.connect('v1');
  again.send({ key: 'resumable', token });
  assert.deepEqual(await host.waitClose(), { code: 4001, reason: 'Replaced by a new connection' });
  assert.deepEqual(await again.next(), { registered: 'resumable', token });
  assert.deepEqual(await again.next(), { join: 1 });
  joiners[0]!.send({ offer: 'to the new host' });
  assert.deepEqual(await again.next(), { offer: 'to the new host', id: 1 });
});

test('when the grace ends without a resume, joiners get {"leave":0} and the key is free', async (t) => {
  const server = await startServer(t, { resumeGraceMs: 200 });
  const { host, token, joiners } = await setup(server);
  const v0answered = await server.connect('v0');
  v0answered.send({ joinkey: 'resumable' });
  await v0answered.next();
  const v0waiting = await server.connect('v0');
  v0waiting.send({ joinkey: 'resumable' });
  await v0waiting.next();
  v0answered.send({ offer: 'o' });
  await host.next();
  await host.next();
  await host.next();
  host.send({ answer: 'a', id: 2 });
  await v0answered.next();
  await dropHost(server, host);
  assert.deepEqual(await joiners[0]!.next(), { leave: 0 });
  assert.deepEqual(await v0waiting.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
  const other = await server.connect('v1');
  other.send({ key: 'resumable', token });
  const ack = (await other.next()) as { registered: string; token: string };
  assert.equal(ack.registered, 'resumable');
  assert.notEqual(ack.token, token, 'a free key registers anew with a new token');
});

test('a host that closes with a close frame leaves at once, with no grace', async (t) => {
  const server = await startServer(t);
  const { host, token, joiners } = await setup(server);
  await host.close();
  assert.deepEqual(await joiners[0]!.next(), { leave: 0 });
  const again = await server.connect('v1');
  again.send({ key: 'resumable', token });
  const ack = (await again.next()) as { token: string };
  assert.notEqual(ack.token, token);
});

test('a host closed for a violation leaves at once, with no grace', async (t) => {
  const server = await startServer(t);
  const { host, joiners } = await setup(server);
  host.send('not json');
  await host.waitClose();
  assert.deepEqual(await joiners[0]!.next(), { leave: 0 });
});

test('a v0 host has no grace: its key is free at once', async (t) => {
  const server = await startServer(t);
  const v0host = await server.connect('v0');
  v0host.send({ key: 'plain' });
  const joiner = await server.connect('v1');
  joiner.send({ joinkey: 'plain' });
  await joiner.next();
  await v0host.drop();
  assert.deepEqual(await joiner.next(), { leave: 0 });
});

test("the resumed host's unanswered offers stay pending; joiners that left are not announced", async (t) => {
  const server = await startServer(t);
  const { host, token, joiners } = await setup(server, 2);
  host.send({ offer: 'reneg', id: 1 });
  assert.deepEqual(await joiners[0]!.next(), { offer: 'reneg' });
  await dropHost(server, host);
  await joiners[1]!.close();
  const again = await server.connect('v1');
  again.send({ key: 'resumable', token });
  await again.next();
  assert.deepEqual(await again.next(), { join: 1 });
  joiners[0]!.send({ answer: 'late answer' });
  assert.deepEqual(await again.next(), { answer: 'late answer', id: 1 });
  assert.deepEqual(again.pending, []);
});

test('{"key": null, "token": T} generates a key', async (t) => {
  const server = await startServer(t);
  const c = await server.connect('v1');
  c.send({ key: null, token: 'anything' });
  const ack = (await c.next()) as { registered: string; token: string };
  assert.match(ack.registered, /^[A-Za-z0-9_-]{22,}$/);
  assert.notEqual(ack.token, 'anything');
});
