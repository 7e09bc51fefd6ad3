// Two Sigver servers over one real Redis behave as one server: host on one,
// joiners on the other, in both dialects, with ids, candidates, FIFO
// answers, unique keys and resume onto the other process.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { TestClient } from '../support/client.js';
import { startCluster, type ClusterNode } from './cluster-node.js';
import { redisForFile } from './redis-server.js';

const redis = redisForFile();

async function twoNodes(t: TestContext): Promise<[ClusterNode, ClusterNode]> {
  const [a, b] = await startCluster(t, redis.url, 2);
  return [a!, b!];
}

async function register(
  node: ClusterNode,
  key: string,
  dialect: 'v0' | 'v1',
): Promise<{ host: TestClient; token: string | undefined }> {
  const host = await node.connect(dialect);
  const registered = node.next('keyRegistered');
  host.send({ key });
  // A v0 host gets no acknowledgement: wait for its server to have the room.
  assert.equal(await registered, key);
  if (dialect === 'v0') return { host, token: undefined };
  const ack = (await host.next()) as { registered: string; token: string };
  assert.equal(ack.registered, key);
  return { host, token: ack.token };
}

test('v0: host on one process, joiner on the other, the original flow', async (t) => {
  const [a, b] = await twoNodes(t);
  const { host } = await register(a, 'v0-pair', 'v0');
  const joiner = await b.connect();
  joiner.send({ joinkey: 'v0-pair' });
  assert.equal(await joiner.nextText(), '{"reachable":"true"}');
  const offer = { type: 'offer', sdp: 'v=0\r\n' };
  joiner.send({ offer });
  assert.deepEqual(await host.next(), { offer });
  host.send({ answer: { type: 'answer', sdp: 'v=0\r\n' } });
  assert.deepEqual(await joiner.next(), { answer: { type: 'answer', sdp: 'v=0\r\n' } });
  joiner.send('{"offer": {"a" : 1.0, "s": "\\u0041 😀"}}');
  assert.deepEqual(await host.next(), { offer: { a: 1, s: 'A 😀' } }, 'the same value as a JSON round trip');
  assert.deepEqual(host.pending, []);
  assert.equal(a.server.stats().keys, 1);
  assert.equal(b.server.stats().keys, 0, "the room lives on its host's process only");
});

test('v1: ids, candidates both ways, host offers, pings and leaves across processes', async (t) => {
  const [a, b] = await twoNodes(t);
  const { host } = await register(a, 'v1-pair', 'v1');
  const first = await b.connect('v1');
  first.send({ joinkey: 'v1-pair' });
  assert.deepEqual(await first.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 1 });
  const second = await b.connect('v1');
  second.send({ joinkey: 'v1-pair' });
  assert.deepEqual(await second.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 2 });

  second.send({ offer: 'o2' });
  second.send({ candidate: { c: 'from-2' } });
  assert.deepEqual(await host.next(), { offer: 'o2', id: 2 });
  assert.deepEqual(await host.next(), { candidate: { c: 'from-2' }, id: 2 });
  host.send({ answer: 'a2', id: 2 });
  host.send({ candidate: null, id: 2 });
  assert.deepEqual(await second.next(), { answer: 'a2' });
  assert.deepEqual(await second.next(), { candidate: null });

  host.send({ offer: 'renegotiate', id: 1 });
  assert.deepEqual(await first.next(), { offer: 'renegotiate' });
  first.send({ answer: 'ok' });
  assert.deepEqual(await host.next(), { answer: 'ok', id: 1 });
  host.send({ candidate: 'c' });
  assert.deepEqual(await host.next(), {
    error: { code: 'ID_REQUIRED', message: 'Several joiners or none: say which with "id"' },
  });
  host.send({ answer: 'none pending', id: 1 });
  assert.equal(((await host.next()) as { error: { code: string } }).error.code, 'NO_PENDING_OFFER');
  first.send({ answer: 'unasked' });
  assert.equal(((await first.next()) as { error: { code: string } }).error.code, 'NO_PENDING_OFFER');
  first.send({ ping: { n: 1 } });
  assert.deepEqual(await first.next(), { pong: { n: 1 } });

  await first.close();
  assert.deepEqual(await host.next(), { leave: 1 });
  await host.close();
  assert.deepEqual(await second.next(), { leave: 0 });
  // The joiner has no role again: it may register the key itself, on its own process.
  second.send({ key: 'v1-pair' });
  assert.equal(((await second.next()) as { registered: string }).registered, 'v1-pair');
});

test('answers follow the queue of first offers, whichever process each joiner is on', async (t) => {
  const [a, b] = await twoNodes(t);
  const { host } = await register(a, 'fifo', 'v0');
  const remote = await b.connect();
  const local = await a.connect('v1');
  remote.send({ joinkey: 'fifo' });
  local.send({ joinkey: 'fifo' });
  await remote.next();
  await local.next();
  remote.send({ offer: 'remote-1' });
  assert.deepEqual(await host.next(), { offer: 'remote-1' });
  local.send({ offer: 'local-1' });
  assert.deepEqual(await host.next(), { offer: 'local-1' });
  remote.send({ offer: 'remote-2' });
  assert.deepEqual(await host.next(), { offer: 'remote-2' }, "a v0 joiner's second offer is forwarded");
  local.send({ offer: 'local-2' });
  assert.deepEqual(await host.next(), { offer: 'local-2' });
  host.send({ answer: 'first' });
  host.send({ answer: 'second' });
  host.send({ answer: 'third' });
  assert.deepEqual(await remote.next(), { answer: 'first' });
  assert.deepEqual(await local.next(), { answer: 'second' });
  assert.deepEqual(await local.next(), { answer: 'third' }, 'a v1 joiner holds a place per offer; the v0 one held one');
});

test('the Netflux frame shape across processes: the second joiner gets its own answer', async (t) => {
  const [a, b] = await twoNodes(t);
  const { host } = await register(a, 'netflux', 'v0');
  const first = await b.connect();
  first.send({ joinkey: 'netflux' });
  await first.next();
  first.send({ offer: { type: 'offer', sdp: 'first' } });
  first.send({ offer: { candidate: 'c0' } });
  first.send({ offer: { candidate: 'c1' } });
  for (let i = 0; i < 3; i += 1) await host.next();
  host.send({ answer: { type: 'answer', sdp: 'to-first' } });
  host.send({ answer: { candidate: 'h0' } });
  assert.deepEqual(await first.next(), { answer: { type: 'answer', sdp: 'to-first' } });
  const second = await b.connect();
  second.send({ joinkey: 'netflux' });
  await second.next();
  second.send({ offer: { type: 'offer', sdp: 'second' } });
  assert.deepEqual(await host.next(), { offer: { type: 'offer', sdp: 'second' } });
  host.send({ answer: { type: 'answer', sdp: 'to-second' } });
  assert.deepEqual(await second.next(), { answer: { type: 'answer', sdp: 'to-second' } });
});

test('mixed dialects across processes: a v1 host and a v0 joiner that is closed when the host leaves', async (t) => {
  const [a, b] = await twoNodes(t);
  const { host } = await register(a, 'mixed', 'v1');
  const answered = await b.connect();
  answered.send({ joinkey: 'mixed' });
  await answered.next();
  assert.deepEqual(await host.next(), { join: 1 });
  const waiting = await b.connect();
  waiting.send({ joinkey: 'mixed' });
  await waiting.next();
  assert.deepEqual(await host.next(), { join: 2 });
  answered.send({ offer: 'o' });
  assert.deepEqual(await host.next(), { offer: 'o', id: 1 });
  host.send({ answer: 'a', id: 1 });
  assert.deepEqual(await answered.next(), { answer: 'a' });
  host.send({ offer: 'to-v0', id: 2 });
  assert.equal(((await host.next()) as { error: { code: string } }).error.code, 'JOINER_V0');
  await host.close();
  assert.deepEqual(await waiting.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
  answered.send({ offer: 'again' });
  assert.deepEqual(await answered.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
});

test('a key held on one process is refused on the other, in both dialects, and free again once its host left', async (t) => {
  const [a, b] = await twoNodes(t);
  const { host } = await register(a, 'dup', 'v1');
  const v0 = await b.connect();
  v0.send({ key: 'dup' });
  assert.deepEqual(await v0.waitClose(), { code: 1008, reason: 'The key already exists' });
  const v1 = await b.connect('v1');
  v1.send({ key: 'dup' });
  assert.deepEqual(await v1.next(), { error: { code: 'KEY_TAKEN', message: 'The key already exists' } });
  const unknown = await b.connect();
  unknown.send({ joinkey: 'nobody-has-it' });
  assert.deepEqual(await unknown.waitClose(), { code: 1008, reason: 'The key does not exist' });

  const watcher = await b.connect('v1');
  watcher.send({ joinkey: 'dup' });
  await watcher.next();
  await host.close();
  assert.deepEqual(await watcher.next(), { leave: 0 });
  v1.send({ key: 'dup' });
  assert.equal(((await v1.next()) as { registered: string }).registered, 'dup');
});

test('two processes racing for one key: exactly one host gets it', async (t) => {
  const [a, b] = await twoNodes(t);
  const hosts = await Promise.all([a.connect('v1'), b.connect('v1'), a.connect('v1'), b.connect('v1')]);
  for (const host of hosts) host.send({ key: 'race' });
  const replies = (await Promise.all(hosts.map((host) => host.next()))) as Array<Record<string, unknown>>;
  assert.equal(replies.filter((r) => 'registered' in r).length, 1, JSON.stringify(replies));
  assert.equal(replies.filter((r) => (r.error as { code?: string } | undefined)?.code === 'KEY_TAKEN').length, 3);
});

test('a generated key registered on one process is joined from the other', async (t) => {
  const [a, b] = await twoNodes(t);
  const host = await a.connect('v1');
  host.send({ key: null });
  const { registered: key } = (await host.next()) as { registered: string };
  assert.match(key, /^[A-Za-z0-9_-]{22,}$/);
  const joiner = await b.connect('v1');
  joiner.send({ joinkey: key });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 1 });
});

test('a v1 host resumes on the other process and keeps its joiners, ids and pending offers', async (t) => {
  const [a, b] = await twoNodes(t);
  const { host, token } = await register(a, 'resume', 'v1');
  const remote = await b.connect('v1');
  remote.send({ joinkey: 'resume' });
  await remote.next();
  assert.deepEqual(await host.next(), { join: 1 });
  const local = await a.connect('v1');
  local.send({ joinkey: 'resume' });
  await local.next();
  assert.deepEqual(await host.next(), { join: 2 });
  remote.send({ offer: 'before the drop' });
  assert.deepEqual(await host.next(), { offer: 'before the drop', id: 1 });

  await host.drop();
  // Within the grace the host is away, for joiners and newcomers alike, on any process.
  remote.send({ candidate: 'while away' });
  assert.deepEqual(await remote.next(), {
    error: { code: 'HOST_AWAY', message: 'The host is away and may come back' },
  });
  const early = await b.connect('v1');
  early.send({ joinkey: 'resume' });
  assert.equal(((await early.next()) as { error: { code: string } }).error.code, 'HOST_AWAY');

  const resumed = await b.connect('v1');
  resumed.send({ key: 'resume', token: 'wrong' });
  assert.equal(((await resumed.next()) as { error: { code: string } }).error.code, 'KEY_TAKEN');
  resumed.send({ key: 'resume', token });
  assert.deepEqual(await resumed.next(), { registered: 'resume', token });
  assert.deepEqual(await resumed.next(), { join: 1 });
  assert.deepEqual(await resumed.next(), { join: 2 });

  resumed.send({ answer: 'after the resume', id: 1 });
  assert.deepEqual(await remote.next(), { answer: 'after the resume' }, 'the offer stayed pending');
  local.send({ candidate: 'c' });
  assert.deepEqual(await resumed.next(), { candidate: 'c', id: 2 });
  const late = await a.connect('v1');
  late.send({ joinkey: 'resume' });
  await late.next();
  assert.deepEqual(await resumed.next(), { join: 3 }, 'ids keep counting');
  assert.equal(a.server.stats().keys, 1, 'the room stays on its owner process');

  await resumed.close();
  assert.deepEqual(await remote.next(), { leave: 0 });
  assert.deepEqual(await local.next(), { leave: 0 });
});
