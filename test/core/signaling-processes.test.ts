// The core across processes: requests answered when a process dies, rooms
// ended when their key is taken away, resume onto another process.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopbackCluster } from '../cluster/loopback-cluster.js';

async function pairAcross(cluster: LoopbackCluster) {
  const a = cluster.process('A');
  const b = cluster.process('B');
  const host = a.open('v1');
  a.core.receive(host.session, '{"key":"k"}');
  await cluster.flush();
  const registered = host.socket.take()[0] as { registered: string; token: string };
  const joiner = b.open('v1');
  b.core.receive(joiner.session, '{"joinkey":"k"}');
  await cluster.flush();
  assert.deepEqual(joiner.socket.take(), [{ reachable: 'true' }]);
  assert.deepEqual(host.socket.take(), [{ join: 1 }]);
  return { a, b, host, joiner, token: registered.token };
}

test('relays between a host and a joiner on different processes, with ids and candidates', async () => {
  const cluster = new LoopbackCluster();
  const { a, b, host, joiner } = await pairAcross(cluster);
  b.core.receive(joiner.session, '{"offer":"o","candidate":"ignored"}');
  b.core.receive(joiner.session, '{"candidate":{"c":1}}');
  await cluster.flush();
  assert.deepEqual(host.socket.take(), [
    { offer: 'o', id: 1 },
    { candidate: { c: 1 }, id: 1 },
  ]);
  a.core.receive(host.session, '{"answer":"a","id":1}');
  a.core.receive(host.session, '{"candidate":null}');
  await cluster.flush();
  assert.deepEqual(joiner.socket.take(), [{ answer: 'a' }, { candidate: null }]);
});

test('a host resumed on another process keeps its room, joiners and token', async () => {
  const cluster = new LoopbackCluster();
  const { a, b, host, joiner, token } = await pairAcross(cluster);
  a.core.ended(host.session, 'abrupt', 1006, '');
  const c = cluster.process('C');
  const resumed = c.open('v1');
  c.core.receive(resumed.session, JSON.stringify({ key: 'k', token }));
  await cluster.flush();
  assert.deepEqual(resumed.socket.take(), [{ registered: 'k', token }, { join: 1 }]);
  b.core.receive(joiner.session, '{"offer":"again"}');
  await cluster.flush();
  assert.deepEqual(resumed.socket.take(), [{ offer: 'again', id: 1 }]);
  assert.equal(cluster.owner('k'), 'A', 'the room stays with its owner process');
});

test('a resume waiting on a process that dies registers the key afresh', async () => {
  const cluster = new LoopbackCluster();
  const { a, host, joiner, token } = await pairAcross(cluster);
  a.core.ended(host.session, 'abrupt', 1006, '');
  const c = cluster.process('C');
  const resumed = c.open('v1');
  c.core.receive(resumed.session, JSON.stringify({ key: 'k', token }));
  c.core.receive(resumed.session, '{"ping":1}');
  await cluster.settle();
  assert.deepEqual(resumed.socket.sent, [], 'the resume is on its way to A');
  cluster.kill('A');
  await cluster.flush();
  const [registered, pong] = resumed.socket.take() as [{ registered: string; token: string }, unknown];
  assert.equal(registered.registered, 'k');
  assert.notEqual(registered.token, token, 'a fresh registration has a new token');
  assert.deepEqual(pong, { pong: 1 }, 'frames that waited are handled after the answer');
  assert.equal(cluster.owner('k'), 'C');
  assert.deepEqual(joiner.socket.take(), [{ leave: 0 }], 'the joiner of the dead room was told');
});

for (const dialect of ['v0', 'v1'] as const) {
  test(`a ${dialect} joinkey waiting on a process that dies is refused as unknown`, async () => {
    const cluster = new LoopbackCluster();
    const a = cluster.process('A');
    const b = cluster.process('B');
    const host = a.open('v0');
    a.core.receive(host.session, '{"key":"k"}');
    await cluster.flush();
    const joiner = b.open(dialect);
    b.core.receive(joiner.session, '{"joinkey":"k"}');
    await cluster.settle();
    cluster.kill('A');
    await cluster.flush();
    if (dialect === 'v1') {
      assert.deepEqual(joiner.socket.take(), [{ error: { code: 'KEY_UNKNOWN', message: 'The key does not exist' } }]);
      assert.equal(joiner.session.role.kind, 'none');
    } else {
      assert.deepEqual(joiner.socket.closed, { code: 1008, reason: 'The key does not exist' });
    }
  });
}

test('a process that loses the claim on a key ends its room and lets its host go', async () => {
  const cluster = new LoopbackCluster();
  const { a, b, host, joiner } = await pairAcross(cluster);
  const v0Joiner = a.open('v0');
  a.core.receive(v0Joiner.session, '{"joinkey":"k"}');
  await cluster.flush();
  assert.deepEqual(v0Joiner.socket.take(), [{ reachable: 'true' }]);
  host.socket.take();
  cluster.steal('k', 'B');
  await cluster.flush();
  assert.deepEqual(host.socket.closed, { code: 1011, reason: 'The peer is no longer available' });
  assert.deepEqual(joiner.socket.take(), [{ leave: 0 }]);
  assert.deepEqual(v0Joiner.socket.closed, { code: 1008, reason: 'The peer is no longer available' });
  assert.equal(a.core.stats().keys, 0);
  assert.equal(cluster.owner('k'), 'B', "ending the room does not release the new owner's key");
  assert.equal(b.core.stats().keys, 0);
});

test("joiners on a dead process leave their host's room", async () => {
  const cluster = new LoopbackCluster();
  const { a, host } = await pairAcross(cluster);
  cluster.kill('B');
  assert.deepEqual(host.socket.take(), [{ leave: 1 }]);
  assert.equal(a.core.stats().joiners, 0);
});

test('a room whose resumed host dies with its process waits out the grace, then tells the joiners', async () => {
  const cluster = new LoopbackCluster();
  const { a, b, host, joiner, token } = await pairAcross(cluster);
  a.core.ended(host.session, 'abrupt', 1006, '');
  const c = cluster.process('C');
  const resumed = c.open('v1');
  c.core.receive(resumed.session, JSON.stringify({ key: 'k', token }));
  await cluster.flush();
  cluster.kill('C');
  await cluster.flush();
  assert.equal(a.core.stats().hostsAway, 1, 'the host may resume once more');
  assert.deepEqual(joiner.socket.take(), []);
  cluster.clock.advance(10_000);
  await cluster.flush();
  assert.deepEqual(joiner.socket.take(), [{ leave: 0 }]);
  assert.equal(a.core.stats().keys, 0);
  assert.equal(b.core.stats().connections, 1);
});

test("a v0 joiner's offer that crosses its host's departure is refused as one sent after it", async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('A');
  const b = cluster.process('B');
  const host = a.open('v0');
  a.core.receive(host.session, '{"key":"k"}');
  await cluster.flush();
  const joiner = b.open('v0');
  b.core.receive(joiner.session, '{"joinkey":"k"}');
  await cluster.flush();
  b.core.receive(joiner.session, '{"offer":"o"}');
  await cluster.flush();
  a.core.receive(host.session, '{"answer":"a"}');
  await cluster.flush();
  assert.deepEqual(joiner.socket.take(), [{ reachable: 'true' }, { answer: 'a' }]);
  a.core.ended(host.session, 'clean', 1000, '');
  b.core.receive(joiner.session, '{"offer":"crossing"}');
  await cluster.flush();
  assert.deepEqual(joiner.socket.closed, { code: 1008, reason: 'The peer is no longer available' });
});

test("a joiner on the host's process, arriving while the key is being claimed, waits for the claim", async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('A');
  const host = a.open('v0');
  a.core.receive(host.session, '{"key":"k"}');
  const joiner = a.open('v0');
  a.core.receive(joiner.session, '{"joinkey":"k"}');
  const other = a.open('v1');
  a.core.receive(other.session, '{"key":"k"}');
  await cluster.flush();
  assert.deepEqual(joiner.socket.take(), [{ reachable: 'true' }]);
  assert.deepEqual(other.socket.take(), [{ error: { code: 'KEY_TAKEN', message: 'The key already exists' } }]);
});

test("a join that reaches the host's process before its claim is answered waits for the claim", async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('A');
  const b = cluster.process('B');
  cluster.holdClaimAnswers();
  const host = a.open('v1');
  a.core.receive(host.session, '{"key":"k"}');
  await cluster.settle();
  const joiner = b.open('v1');
  b.core.receive(joiner.session, '{"joinkey":"k"}');
  await cluster.flush();
  assert.deepEqual(joiner.socket.take(), [], 'the join waits on A for the claim');
  cluster.answerClaims();
  await cluster.flush();
  const [registered, ...rest] = host.socket.take() as Array<{ registered?: string }>;
  assert.equal(registered?.registered, 'k');
  assert.deepEqual(rest, [{ join: 1 }]);
  assert.deepEqual(joiner.socket.take(), [{ reachable: 'true' }]);
});

// Envelopes a backplane could not deliver come back to the core, which answers
// them from its one table (src/core/undelivered.ts).

for (const [why, code, v0Close] of [
  ['process-gone', 'KEY_UNKNOWN', { code: 1008, reason: 'The key does not exist' }],
  ['backplane-down', 'UNAVAILABLE', { code: 1011, reason: 'Service unavailable' }],
] as const) {
  for (const dialect of ['v0', 'v1'] as const) {
    test(`a ${dialect} joinkey that reaches no process (${why}) is refused ${code}`, async () => {
      const cluster = new LoopbackCluster();
      const a = cluster.process('A');
      const b = cluster.process('B');
      const host = a.open('v1');
      a.core.receive(host.session, '{"key":"k"}');
      await cluster.flush();
      cluster.cutOff('A', why);
      const joiner = b.open(dialect);
      b.core.receive(joiner.session, '{"joinkey":"k"}');
      await cluster.flush();
      if (dialect === 'v1') {
        assert.equal((joiner.socket.take()[0] as { error: { code: string } }).error.code, code);
        assert.equal(joiner.session.role.kind, 'none');
      } else {
        assert.deepEqual(joiner.socket.closed, v0Close);
      }
    });
  }
}

for (const why of ['process-gone', 'backplane-down'] as const) {
  test(`a resume that reaches no process (${why}) is refused UNAVAILABLE: the key is not free yet`, async () => {
    const cluster = new LoopbackCluster();
    const { a, host, token } = await pairAcross(cluster);
    a.core.ended(host.session, 'abrupt', 1006, '');
    cluster.cutOff('A', why);
    const c = cluster.process('C');
    const resumed = c.open('v1');
    c.core.receive(resumed.session, JSON.stringify({ key: 'k', token }));
    await cluster.flush();
    assert.equal((resumed.socket.take()[0] as { error: { code: string } }).error.code, 'UNAVAILABLE');
    assert.equal(cluster.owner('k'), 'A');
  });
}

test('a host attached on a process that the room cannot reach is let go with its resume grace', async () => {
  const cluster = new LoopbackCluster();
  const { a, joiner, host, token } = await pairAcross(cluster);
  a.core.ended(host.session, 'abrupt', 1006, '');
  const c = cluster.process('C');
  const resumed = c.open('v1');
  c.core.receive(resumed.session, JSON.stringify({ key: 'k', token }));
  await cluster.settle();
  cluster.cutOff('C', 'process-gone');
  await cluster.flush();
  assert.equal(a.core.stats().hostsAway, 1, 'the host may resume once more');
  assert.deepEqual(joiner.socket.take(), []);
});

test('a joiner attached on a process that the room cannot reach leaves the room', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('A');
  const b = cluster.process('B');
  const host = a.open('v1');
  a.core.receive(host.session, '{"key":"k"}');
  await cluster.flush();
  host.socket.take();
  const joiner = b.open('v1');
  b.core.receive(joiner.session, '{"joinkey":"k"}');
  await cluster.settle();
  cluster.cutOff('B', 'backplane-down');
  await cluster.flush();
  assert.equal(a.core.stats().joiners, 0);
  assert.deepEqual(host.socket.take(), [{ join: 1 }, { leave: 1 }]);
});

test('frames that waited are each handled once, even when one is refused at once', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('A');
  const b = cluster.process('B');
  const host = a.open('v1');
  a.core.receive(host.session, '{"key":"far"}');
  await cluster.flush();
  const joiner = b.open('v1');
  b.core.receive(joiner.session, '{"joinkey":"nowhere"}');
  b.core.receive(joiner.session, '{"joinkey":""}');
  b.core.receive(joiner.session, '{"joinkey":"far"}');
  b.core.receive(joiner.session, '{"ping":1}');
  await cluster.flush();
  const codes = joiner.socket.take().map((frame) => (frame as { error?: { code: string } }).error?.code ?? frame);
  assert.deepEqual(codes, ['KEY_UNKNOWN', 'INVALID_KEY', { reachable: 'true' }, { pong: 1 }]);
});

test('a waiting frame refused at once by a room of this process is not handled again', async () => {
  const cluster = new LoopbackCluster();
  cluster.process('A');
  const b = cluster.process('B');
  const near = b.open('v1');
  b.core.receive(near.session, '{"key":"near"}');
  await cluster.flush();
  b.core.ended(near.session, 'abrupt', 1006, '');
  const joiner = b.open('v1');
  b.core.receive(joiner.session, '{"joinkey":"nowhere"}');
  b.core.receive(joiner.session, '{"joinkey":"near"}');
  b.core.receive(joiner.session, '{"ping":1}');
  await cluster.flush();
  const codes = joiner.socket.take().map((frame) => (frame as { error?: { code: string } }).error?.code ?? frame);
  assert.deepEqual(codes, ['KEY_UNKNOWN', 'HOST_AWAY', { pong: 1 }]);
});
