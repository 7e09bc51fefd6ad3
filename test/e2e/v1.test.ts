// The v1 dialect on real sockets: every row of PROTOCOL.md's v1 tables.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, type TestServer } from '../support/server.js';
import type { TestClient } from '../support/client.js';

async function expectError(client: TestClient, code: string): Promise<void> {
  const message = (await client.next()) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(message.error?.code, code, `expected error ${code}, got ${JSON.stringify(message)}`);
  assert.equal(typeof message.error?.message, 'string');
}

async function host(
  server: TestServer,
  key: string | null = 'room',
): Promise<{ client: TestClient; key: string; token: string }> {
  const client = await server.connect('v1');
  client.send({ key });
  const ack = (await client.next()) as { registered: string; token: string };
  assert.equal(typeof ack.registered, 'string');
  assert.match(ack.token, /^[A-Za-z0-9_-]{22,}$/);
  return { client, key: ack.registered, token: ack.token };
}

async function join(server: TestServer, key: string, dialect: 'v0' | 'v1' = 'v1'): Promise<TestClient> {
  const client = await server.connect(dialect);
  client.send({ joinkey: key });
  assert.deepEqual(await client.next(), { reachable: 'true' });
  return client;
}

test('acknowledges a key with registered and a resume token', async (t) => {
  const server = await startServer(t);
  const h = await host(server, 'named');
  assert.equal(h.key, 'named');
});

test('registered carries integer keys as strings', async (t) => {
  const server = await startServer(t);
  const client = await server.connect('v1');
  client.send({ key: 42 });
  assert.equal(((await client.next()) as { registered: unknown }).registered, '42');
});

test('generates an unguessable URL-safe key for {"key": null}', async (t) => {
  const server = await startServer(t);
  const a = await host(server, null);
  const b = await host(server, null);
  assert.match(a.key, /^[A-Za-z0-9_-]{22,}$/);
  assert.notEqual(a.key, b.key);
  await join(server, a.key);
});

test('announces joiners with ids and relays with ids in both directions', async (t) => {
  const server = await startServer(t);
  const h = await host(server);
  const j1 = await join(server, h.key);
  assert.deepEqual(await h.client.next(), { join: 1 });
  const j2 = await join(server, h.key);
  assert.deepEqual(await h.client.next(), { join: 2 });
  j2.send({ offer: { sdp: 'o2' } });
  assert.deepEqual(await h.client.next(), { offer: { sdp: 'o2' }, id: 2 });
  j1.send({ candidate: { candidate: 'c1' } });
  assert.deepEqual(await h.client.next(), { candidate: { candidate: 'c1' }, id: 1 });
  j1.send({ candidate: null });
  assert.deepEqual(await h.client.next(), { candidate: null, id: 1 });
  h.client.send({ answer: { sdp: 'a2' }, id: 2 });
  assert.deepEqual(await j2.next(), { answer: { sdp: 'a2' } });
  h.client.send({ candidate: { candidate: 'h' }, id: 1 });
  assert.deepEqual(await j1.next(), { candidate: { candidate: 'h' } });
  h.client.send({ candidate: null, id: 2 });
  assert.deepEqual(await j2.next(), { candidate: null });
});

test('an answer without id follows v0 FIFO routing', async (t) => {
  const server = await startServer(t);
  const h = await host(server);
  const j1 = await join(server, h.key);
  const j2 = await join(server, h.key);
  await h.client.next();
  await h.client.next();
  j2.send({ offer: 'b' });
  j1.send({ offer: 'a' });
  await h.client.next();
  await h.client.next();
  h.client.send({ answer: 'first' });
  assert.deepEqual(await j2.next(), { answer: 'first' });
  h.client.send({ answer: 'second' });
  assert.deepEqual(await j1.next(), { answer: 'second' });
  h.client.send({ answer: 'third' });
  await expectError(h.client, 'NO_PENDING_OFFER');
});

test("an answer with id takes that joiner's oldest offer out of the queue", async (t) => {
  const server = await startServer(t);
  const h = await host(server);
  const j1 = await join(server, h.key);
  const j2 = await join(server, h.key);
  await h.client.next();
  await h.client.next();
  j1.send({ offer: 'a' });
  j2.send({ offer: 'b' });
  await h.client.next();
  await h.client.next();
  h.client.send({ answer: 'to-2', id: 2 });
  assert.deepEqual(await j2.next(), { answer: 'to-2' });
  h.client.send({ answer: 'again', id: 2 });
  await expectError(h.client, 'NO_PENDING_OFFER');
  h.client.send({ answer: 'fifo' });
  assert.deepEqual(await j1.next(), { answer: 'fifo' });
});

test("host-initiated offers (renegotiation) and the joiner's answer", async (t) => {
  const server = await startServer(t);
  const h = await host(server);
  const j = await join(server, h.key);
  await h.client.next();
  j.send({ answer: 'unsolicited' });
  await expectError(j, 'NO_PENDING_OFFER');
  h.client.send({ offer: 'renegotiate' });
  assert.deepEqual(await j.next(), { offer: 'renegotiate' });
  j.send({ answer: 'ok' });
  assert.deepEqual(await h.client.next(), { answer: 'ok', id: 1 });
  h.client.send({ offer: 'again', id: 1 });
  assert.deepEqual(await j.next(), { offer: 'again' });
});

test('offer and candidate without id need exactly one joiner', async (t) => {
  const server = await startServer(t);
  const h = await host(server);
  h.client.send({ offer: 'x' });
  await expectError(h.client, 'ID_REQUIRED');
  h.client.send({ candidate: 'x' });
  await expectError(h.client, 'ID_REQUIRED');
  await join(server, h.key);
  await join(server, h.key);
  await h.client.next();
  await h.client.next();
  h.client.send({ candidate: 'x' });
  await expectError(h.client, 'ID_REQUIRED');
});

test('an id that names no joiner is UNKNOWN_ID', async (t) => {
  const server = await startServer(t);
  const h = await host(server);
  await join(server, h.key);
  await h.client.next();
  for (const id of [7, 0, -1, 1.5, '1', true]) {
    h.client.send({ candidate: 'c', id });
    await expectError(h.client, 'UNKNOWN_ID');
  }
  h.client.send({ answer: 'a', id: 9 });
  await expectError(h.client, 'UNKNOWN_ID');
});

test('answers ping with pong', async (t) => {
  const server = await startServer(t);
  const c = await server.connect('v1');
  c.send({ ping: { n: 1 } });
  assert.deepEqual(await c.next(), { pong: { n: 1 } });
  c.send({ ping: null });
  assert.deepEqual(await c.next(), { pong: null });
});

test('refusals are error messages and the connection stays open', async (t) => {
  const server = await startServer(t);
  const h = await host(server, 'taken');
  const c = await server.connect('v1');
  const cases: Array<[unknown, string]> = [
    [{ joinkey: 'nobody' }, 'KEY_UNKNOWN'],
    [{ key: 'taken' }, 'KEY_TAKEN'],
    [{ key: '' }, 'INVALID_KEY'],
    [{ joinkey: 1.5 }, 'INVALID_KEY'],
    [{ offer: 'o' }, 'NOT_JOINED'],
    [{ candidate: 'c' }, 'NOT_JOINED'],
    [{ answer: 'a' }, 'NOT_HOST'],
    [[1], 'UNSUPPORTED'],
    [{ nothing: 1 }, 'UNSUPPORTED'],
    ['7', 'UNSUPPORTED'],
  ];
  for (const [frame, code] of cases) {
    c.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    await expectError(c, code);
  }
  h.client.send({ key: 'other' });
  await expectError(h.client, 'ROLE_SET');
  h.client.send({ joinkey: 'taken' });
  await expectError(h.client, 'ROLE_SET');
  c.send({ joinkey: 'taken' });
  assert.deepEqual(await c.next(), { reachable: 'true' }, 'still usable after refusals');
});

test('invalid JSON still closes 1003 in v1', async (t) => {
  const server = await startServer(t);
  const c = await server.connect('v1');
  c.send('{oops');
  assert.deepEqual(await c.waitClose(), { code: 1003, reason: 'Server accepts only JSON' });
});

test('KEY_FULL past the joiner limit', async (t) => {
  const server = await startServer(t, { maxJoiners: 1 });
  const h = await host(server);
  await join(server, h.key);
  const extra = await server.connect('v1');
  extra.send({ joinkey: h.key });
  await expectError(extra, 'KEY_FULL');
});

test('tells the host when a joiner leaves, and ids are never reused', async (t) => {
  const server = await startServer(t);
  const h = await host(server);
  const j1 = await join(server, h.key);
  assert.deepEqual(await h.client.next(), { join: 1 });
  await j1.close();
  assert.deepEqual(await h.client.next(), { leave: 1 });
  await join(server, h.key);
  assert.deepEqual(await h.client.next(), { join: 2 });
});

test('a joiner whose host left gets {"leave":0} and may join or register anew', async (t) => {
  const server = await startServer(t);
  const h = await host(server);
  const j = await join(server, h.key);
  await h.client.close();
  assert.deepEqual(await j.next(), { leave: 0 });
  j.send({ offer: 'late' });
  await expectError(j, 'NOT_JOINED');
  j.send({ key: h.key });
  assert.equal(((await j.next()) as { registered: string }).registered, h.key);
});

test('mixed dialects: each message is shaped for the dialect of its recipient', async (t) => {
  const server = await startServer(t);
  // v0 host, v1 joiner
  const v0host = await server.connect('v0');
  v0host.send({ key: 'mixed' });
  const v1joiner = await join(server, 'mixed', 'v1');
  v1joiner.send({ offer: 'o' });
  assert.equal(await v0host.nextText(), '{"offer":"o"}');
  v1joiner.send({ candidate: 'c' });
  assert.equal(await v0host.nextText(), '{"candidate":"c"}');
  v0host.send({ answer: 'a', id: 99 });
  assert.deepEqual(await v1joiner.next(), { answer: 'a' });
  await v0host.close();
  assert.deepEqual(await v1joiner.next(), { leave: 0 });

  // v1 host, v0 joiner
  const h = await host(server, 'mixed2');
  const v0joiner = await join(server, 'mixed2', 'v0');
  assert.deepEqual(await h.client.next(), { join: 1 });
  v0joiner.send({ offer: 'o' });
  assert.deepEqual(await h.client.next(), { offer: 'o', id: 1 });
  h.client.send({ offer: 'reneg', id: 1 });
  await expectError(h.client, 'JOINER_V0');
  h.client.send({ answer: 'a', id: 1 });
  assert.deepEqual(await v0joiner.next(), { answer: 'a' });
  const unanswered = await join(server, 'mixed2', 'v0');
  await h.client.close();
  assert.deepEqual(await unanswered.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
  v0joiner.send({ offer: 'after' });
  assert.deepEqual(await v0joiner.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
});

test('a v0 connection ignores token and gets no registered ack', async (t) => {
  const server = await startServer(t);
  const v0 = await server.connect('v0');
  v0.send({ key: 'v0key', token: 'whatever' });
  const joiner = await join(server, 'v0key', 'v1');
  joiner.send({ offer: 1 });
  assert.equal(await v0.nextText(), '{"offer":1}');
});
