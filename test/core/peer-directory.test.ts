// The PeerJS id directory in the core, without sockets: registration and
// ID-TAKEN, delivery by id in one process and across processes, mailboxes
// with their caps and expiry, and what happens when a process dies.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopbackCluster, type FakeSocket, type LoopbackProcess } from '../cluster/loopback-cluster.js';
import type { Session } from '../../src/core/session.js';

interface Peer {
  readonly session: Session;
  readonly socket: FakeSocket;
}

function connect(node: LoopbackProcess, id: string, token = `t-${id}`, realm = 'peerjs'): Peer {
  const peer = node.open('peerjs');
  node.core.helloPeerJs(peer.session, { realm, id, token });
  return peer;
}

function say(node: LoopbackProcess, peer: Peer, message: unknown): void {
  node.core.receive(peer.session, JSON.stringify(message));
}

const OPEN = { type: 'OPEN' };

test('an id is registered once: OPEN, then ID-TAKEN and a close for another token', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a');
  const alice = connect(a, 'alice');
  await cluster.flush();
  assert.deepEqual(alice.socket.take(), [OPEN]);
  const thief = connect(a, 'alice', 'other');
  await cluster.flush();
  assert.deepEqual(thief.socket.take(), [{ type: 'ID-TAKEN', payload: { msg: 'ID is taken' } }]);
  assert.equal(thief.socket.closed?.code, 1008);
  assert.equal(a.core.peerStats().peers, 1);
});

test('messages go by id within a process and across processes, in order', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a');
  const b = cluster.process('b');
  const alice = connect(a, 'alice');
  const bob = connect(b, 'bob');
  const carol = connect(a, 'carol');
  await cluster.flush();
  for (const p of [alice, bob, carol]) p.socket.take();
  for (let n = 0; n < 5; n += 1) say(a, alice, { type: 'CANDIDATE', dst: 'bob', payload: { n } });
  say(a, alice, { type: 'OFFER', dst: 'carol', payload: { sdp: 'x' } });
  await cluster.flush();
  assert.deepEqual(
    bob.socket.take(),
    [0, 1, 2, 3, 4].map((n) => ({ type: 'CANDIDATE', src: 'alice', dst: 'bob', payload: { n } })),
  );
  assert.deepEqual(carol.socket.take(), [{ type: 'OFFER', src: 'alice', dst: 'carol', payload: { sdp: 'x' } }]);
  // Ids are unique across processes.
  const thief = connect(b, 'alice', 'other');
  await cluster.flush();
  assert.deepEqual(thief.socket.take(), [{ type: 'ID-TAKEN', payload: { msg: 'ID is taken' } }]);
});

test('a mailbox waits for its id, and is delivered after OPEN', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a', { expireMs: 1_000 });
  const alice = connect(a, 'alice');
  await cluster.flush();
  alice.socket.take();
  say(a, alice, { type: 'OFFER', dst: 'bob', payload: 1 });
  say(a, alice, { type: 'LEAVE', dst: 'bob' });
  await cluster.flush();
  assert.equal(a.core.peerStats().queuedMessages, 1);
  cluster.clock.advance(500);
  const bob = connect(a, 'bob');
  await cluster.flush();
  // LEAVE for an id not connected is dropped, as `peer` does.
  assert.deepEqual(bob.socket.take(), [OPEN, { type: 'OFFER', src: 'alice', dst: 'bob', payload: 1 }]);
  assert.equal(a.core.peerStats().queuedMessages, 0);
  cluster.clock.advance(1_000);
  assert.deepEqual(alice.socket.take(), []);
});

test('a mailbox expires: each sender gets one EXPIRE, across processes too', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a', { expireMs: 1_000 });
  const b = cluster.process('b', { expireMs: 1_000 });
  const alice = connect(a, 'alice');
  const bob = connect(b, 'bob');
  await cluster.flush();
  alice.socket.take();
  bob.socket.take();
  say(a, alice, { type: 'OFFER', dst: 'nobody', payload: 1 });
  say(a, alice, { type: 'CANDIDATE', dst: 'nobody', payload: 2 });
  say(b, bob, { type: 'OFFER', dst: 'nobody', payload: 3 });
  await cluster.flush();
  cluster.clock.advance(1_000);
  await cluster.flush();
  assert.deepEqual(alice.socket.take(), [{ type: 'EXPIRE', src: 'nobody', dst: 'alice' }]);
  assert.deepEqual(bob.socket.take(), [{ type: 'EXPIRE', src: 'nobody', dst: 'bob' }]);
  assert.equal(a.core.peerStats().queuedMessages, 0);
});

test('an id that connects to another process before its mailbox expires gets the messages there', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a', { expireMs: 1_000 });
  const b = cluster.process('b');
  const alice = connect(a, 'alice');
  await cluster.flush();
  alice.socket.take();
  say(a, alice, { type: 'OFFER', dst: 'bob', payload: 1 });
  await cluster.flush();
  const bob = connect(b, 'bob');
  await cluster.flush();
  assert.deepEqual(bob.socket.take(), [OPEN]);
  cluster.clock.advance(1_000);
  await cluster.flush();
  assert.deepEqual(bob.socket.take(), [{ type: 'OFFER', src: 'alice', dst: 'bob', payload: 1 }]);
  assert.deepEqual(alice.socket.take(), []);
});

test('mailbox caps: 64 messages per id, then EXPIRE at once', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a');
  const alice = connect(a, 'alice');
  await cluster.flush();
  alice.socket.take();
  for (let n = 0; n < 70; n += 1) say(a, alice, { type: 'CANDIDATE', dst: 'later', payload: n });
  await cluster.flush();
  assert.equal(a.core.peerStats().queuedMessages, 64);
  assert.equal(alice.socket.take().length, 6);
});

test('a frame sent before the claim holds waits for it: nothing leaves in the name of an id not yet its own', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a');
  const bob = connect(a, 'bob');
  await cluster.flush();
  bob.socket.take();
  cluster.holdClaimAnswers();
  const alice = connect(a, 'alice');
  say(a, alice, { type: 'OFFER', dst: 'bob', payload: 1 });
  await cluster.settle();
  assert.deepEqual(bob.socket.take(), []);
  cluster.answerClaims();
  await cluster.flush();
  assert.deepEqual(alice.socket.take(), [OPEN]);
  assert.deepEqual(bob.socket.take(), [{ type: 'OFFER', src: 'alice', dst: 'bob', payload: 1 }]);
});

test('leaving frees the id; a connection that leaves while claiming gives its claim back', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a');
  const b = cluster.process('b');
  const alice = connect(a, 'alice');
  await cluster.flush();
  a.core.ended(alice.session, 'clean', 1000, '');
  cluster.holdClaimAnswers();
  const early = connect(b, 'alice');
  b.core.ended(early.session, 'abrupt', 1006, '');
  cluster.answerClaims();
  await cluster.flush();
  const again = connect(a, 'alice', 'new');
  await cluster.flush();
  assert.deepEqual(again.socket.take(), [OPEN]);
});

test('a process dies: its ids are free, and messages for them wait in a mailbox', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a', { expireMs: 1_000 });
  const b = cluster.process('b');
  const alice = connect(a, 'alice');
  connect(b, 'bob');
  await cluster.flush();
  alice.socket.take();
  say(a, alice, { type: 'LEAVE', dst: 'bob' });
  await cluster.flush();
  cluster.kill('b');
  await cluster.flush();
  say(a, alice, { type: 'OFFER', dst: 'bob', payload: 1 });
  await cluster.flush();
  cluster.clock.advance(1_000);
  await cluster.flush();
  assert.deepEqual(alice.socket.take(), [{ type: 'EXPIRE', src: 'bob', dst: 'alice' }]);
});

test('a LEAVE with no destination gives the id up and closes the connection', async () => {
  const cluster = new LoopbackCluster();
  const a = cluster.process('a');
  const alice = connect(a, 'alice');
  await cluster.flush();
  say(a, alice, { type: 'LEAVE' });
  assert.equal(alice.socket.closed?.code, 1000);
  assert.equal(a.core.peerStats().peers, 0);
});
