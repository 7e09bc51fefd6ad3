// Answer routing (PROTOCOL.md, "Answer routing") in every combination of
// host and joiner dialects: one queue place per v0 joiner, one per offer for
// a v1 joiner, answers with an id unchanged.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OfferQueue } from '../../src/core/offer-queue.js';
import type { Dialect } from '../../src/protocol/index.js';
import { CoreHarness, type FakePeer } from '../support/core-harness.js';

const DIALECTS = ['v0', 'v1'] as const;

interface Room {
  readonly h: CoreHarness;
  readonly host: FakePeer;
  join(dialect: Dialect): FakePeer;
  /** What the host received since the last call, without `join` notices. */
  hostHeard(): unknown[];
}

function room(hostDialect: Dialect): Room {
  const h = new CoreHarness({ maxJoiners: 8 });
  const host = h.open(hostDialect);
  h.send(host, { key: 'k' });
  let read = host.received.length;
  return {
    h,
    host,
    join(dialect) {
      const joiner = h.open(dialect);
      h.send(joiner, { joinkey: 'k' });
      assert.deepEqual(joiner.messages, [{ reachable: 'true' }]);
      return joiner;
    },
    hostHeard() {
      const heard = host.messages.slice(read).filter((m) => !Object.hasOwn(m as object, 'join'));
      read = host.received.length;
      return heard;
    },
  };
}

/** The messages a peer got after `{"reachable":"true"}`. */
function after(joiner: FakePeer): unknown[] {
  return joiner.messages.slice(1);
}

/** What an id-less answer nobody waits for earns the host: nothing in v0, an error in v1. */
function unanswered(host: Dialect): unknown[] {
  return host === 'v1'
    ? [{ error: { code: 'NO_PENDING_OFFER', message: 'There is no unanswered offer to answer' } }]
    : [];
}

for (const hostDialect of DIALECTS) {
  test(`${hostDialect} host: the Netflux shape (candidates as offers and answers) gives each v0 joiner its own answer`, () => {
    const r = room(hostDialect);
    const first = r.join('v0');
    const sdp = { type: 'offer', sdp: 'v=0 first' };
    r.h.send(first, { offer: sdp });
    for (let i = 0; i < 3; i += 1) r.h.send(first, { offer: { candidate: `c${i}` } });
    assert.equal(r.hostHeard().length, 4, 'every frame of the joiner is forwarded');
    r.h.send(r.host, { answer: { type: 'answer', sdp: 'v=0 to first' } });
    r.h.send(r.host, { answer: { candidate: 'h0' } });
    r.h.send(r.host, { answer: { candidate: 'h1' } });
    assert.deepEqual(after(first), [{ answer: { type: 'answer', sdp: 'v=0 to first' } }]);
    assert.deepEqual(r.hostHeard(), [...unanswered(hostDialect), ...unanswered(hostDialect)]);

    const second = r.join('v0');
    r.h.send(second, { offer: { type: 'offer', sdp: 'v=0 second' } });
    r.h.send(second, { offer: { candidate: 'd0' } });
    r.h.send(r.host, { answer: { type: 'answer', sdp: 'v=0 to second' } });
    r.h.send(r.host, { answer: { candidate: 'h2' } });
    assert.deepEqual(after(second), [{ answer: { type: 'answer', sdp: 'v=0 to second' } }]);
    assert.deepEqual(after(first), [{ answer: { type: 'answer', sdp: 'v=0 to first' } }], 'nothing more for the first');
  });

  for (const joinerDialect of DIALECTS) {
    test(`${hostDialect} host, ${joinerDialect} joiners: joiners are answered in the order of their first offer`, () => {
      const r = room(hostDialect);
      const a = r.join(joinerDialect);
      const b = r.join(joinerDialect);
      r.h.send(b, { offer: 'from-b' });
      r.h.send(a, { offer: 'from-a' });
      r.h.send(r.host, { answer: 'first' });
      r.h.send(r.host, { answer: 'second' });
      assert.deepEqual(after(b), [{ answer: 'first' }]);
      assert.deepEqual(after(a), [{ answer: 'second' }]);
    });

    test(`${hostDialect} host, ${joinerDialect} joiner: a joiner that leaves takes its place in the queue with it`, () => {
      const r = room(hostDialect);
      const a = r.join(joinerDialect);
      const b = r.join(joinerDialect);
      r.h.send(a, { offer: 'a1' });
      r.h.send(a, { offer: 'a2' });
      r.h.send(b, { offer: 'b1' });
      r.h.end(a, 'clean');
      r.h.send(r.host, { answer: 'to-b' });
      assert.deepEqual(after(b), [{ answer: 'to-b' }]);
    });
  }

  test(`${hostDialect} host: a v0 joiner that offers twice before its answer is queued once`, () => {
    const r = room(hostDialect);
    const a = r.join('v0');
    const b = r.join('v0');
    r.h.send(a, { offer: 'a1' });
    r.h.send(a, { offer: 'a2' });
    r.h.send(b, { offer: 'b1' });
    assert.deepEqual(
      r.hostHeard(),
      [{ offer: 'a1' }, { offer: 'a2' }, { offer: 'b1' }].map(shapedFor(hostDialect, [1, 1, 2])),
    );
    r.h.send(r.host, { answer: 'first' });
    r.h.send(r.host, { answer: 'second' });
    assert.deepEqual(after(a), [{ answer: 'first' }]);
    assert.deepEqual(after(b), [{ answer: 'second' }]);
  });

  test(`${hostDialect} host: a v0 joiner's offer after its answer is forwarded and queues nothing`, () => {
    const r = room(hostDialect);
    const a = r.join('v0');
    r.h.send(a, { offer: 'a1' });
    r.h.send(r.host, { answer: 'to-a' });
    r.hostHeard();
    r.h.send(a, { offer: 'a2' });
    assert.deepEqual(r.hostHeard(), [{ offer: 'a2' }].map(shapedFor(hostDialect, [1])));
    r.h.send(r.host, { answer: 'nobody waits' });
    assert.deepEqual(after(a), [{ answer: 'to-a' }], 'the second answer does not reach it');
    assert.deepEqual(r.hostHeard(), unanswered(hostDialect));
    // Further id-less answers go to the next joiner that waits.
    const b = r.join('v0');
    r.h.send(b, { offer: 'b1' });
    r.h.send(a, { offer: 'a3' });
    r.h.send(r.host, { answer: 'to-b' });
    assert.deepEqual(after(b), [{ answer: 'to-b' }]);
    assert.deepEqual(after(a), [{ answer: 'to-a' }]);
  });

  test(`${hostDialect} host: a v1 joiner is queued by each offer (renegotiation is answered)`, () => {
    const r = room(hostDialect);
    const a = r.join('v1');
    r.h.send(a, { offer: 'first' });
    r.h.send(r.host, { answer: 'answer-1' });
    r.h.send(a, { offer: 'renegotiate' });
    r.h.send(r.host, { answer: 'answer-2' });
    assert.deepEqual(after(a), [{ answer: 'answer-1' }, { answer: 'answer-2' }]);
    // Two offers before an answer: two places, answered in turn before a later joiner.
    const b = r.join('v1');
    r.h.send(a, { offer: 'a3' });
    r.h.send(a, { offer: 'a4' });
    r.h.send(b, { offer: 'b1' });
    for (const text of ['x', 'y', 'z']) r.h.send(r.host, { answer: text });
    assert.deepEqual(after(a).slice(2), [{ answer: 'x' }, { answer: 'y' }]);
    assert.deepEqual(after(b), [{ answer: 'z' }]);
  });
}

test('v1 host, mixed joiners: an answer with id to a v0 joiner answers it for good', () => {
  const r = room('v1');
  const old = r.join('v0');
  const modern = r.join('v1');
  r.h.send(old, { offer: 'o1' });
  r.h.send(modern, { offer: 'm1' });
  r.h.send(r.host, { answer: 'to-old', id: 1 });
  assert.deepEqual(after(old), [{ answer: 'to-old' }]);
  r.h.send(old, { offer: 'o2' });
  r.h.send(r.host, { answer: 'to-modern' });
  assert.deepEqual(after(modern), [{ answer: 'to-modern' }], "the v0 joiner's later offer took no place");
  r.hostHeard();
  r.h.send(r.host, { answer: 'again', id: 1 });
  assert.deepEqual(r.hostHeard(), unanswered('v1'));
  assert.deepEqual(after(old), [{ answer: 'to-old' }]);
});

test("v1 host: an answer with id takes that joiner's oldest place and leaves the others' order", () => {
  const r = room('v1');
  const a = r.join('v1');
  const b = r.join('v0');
  const c = r.join('v1');
  r.h.send(a, { offer: 'a1' });
  r.h.send(b, { offer: 'b1' });
  r.h.send(a, { offer: 'a2' });
  r.h.send(c, { offer: 'c1' });
  r.h.send(r.host, { answer: 'to-a', id: 1 });
  for (const text of ['x', 'y', 'z']) r.h.send(r.host, { answer: text });
  assert.deepEqual(after(a), [{ answer: 'to-a' }, { answer: 'y' }]);
  assert.deepEqual(after(b), [{ answer: 'x' }]);
  assert.deepEqual(after(c), [{ answer: 'z' }]);
});

test('a resumed v1 host keeps the queue, v0 places included', () => {
  const r = room('v1');
  const { token } = r.host.messages[0] as { token: string };
  const a = r.join('v0');
  r.h.send(a, { offer: 'a1' });
  r.h.send(a, { offer: 'a2' });
  r.h.end(r.host, 'abrupt');
  const again = r.h.open('v1');
  r.h.send(again, { key: 'k', token });
  r.h.send(again, { answer: 'first' });
  r.h.send(again, { answer: 'second' });
  assert.deepEqual(after(a), [{ answer: 'first' }]);
  assert.deepEqual(again.messages.at(-1), unanswered('v1')[0]);
});

test('the offer queue removes a joiner in time linear in its own entries', () => {
  const queue = new OfferQueue();
  for (const id of [1, 2, 1, 3, 2, 1]) queue.push(id);
  assert.equal(queue.count(1), 3);
  assert.equal(queue.take(2), true);
  assert.deepEqual(queue.toArray(), [1, 1, 3, 2, 1]);
  queue.removeJoiner(1);
  assert.deepEqual(queue.toArray(), [3, 2]);
  assert.equal(queue.size, 2);
  assert.equal(queue.take(1), false);
  assert.equal(queue.shift(), 3);
  assert.equal(queue.shift(), 2);
  assert.equal(queue.shift(), undefined);
  assert.equal(queue.size, 0);
  queue.push(4);
  assert.deepEqual(queue.toArray(), [4], 'an emptied queue is usable again');
});

/** The shape a host of `dialect` gets a joiner's relay in: with the joiner's id in v1. */
function shapedFor(dialect: Dialect, ids: number[]): (message: object, index: number) => object {
  return (message, index) => (dialect === 'v1' ? { ...message, id: ids[index] } : message);
}

test('offers past maxPendingOffers are refused and not forwarded: v1 error TOO_MANY_OFFERS, v0 close 1008', () => {
  const h = new CoreHarness({ maxJoiners: 8, maxPendingOffers: 2 });
  const host = h.open('v1');
  h.send(host, { key: 'k' });
  const joiners = (['v1', 'v0', 'v0'] as const).map((dialect) => {
    const joiner = h.open(dialect);
    h.send(joiner, { joinkey: 'k' });
    return joiner;
  });
  const [modern, old, late] = joiners as [FakePeer, FakePeer, FakePeer];
  h.send(modern, { offer: 'm1' });
  h.send(old, { offer: 'o1' });
  h.send(old, { offer: 'o2' });
  assert.equal(old.closed, undefined, "a v0 joiner's later offers take no place, so they are never refused");
  h.send(modern, { offer: 'm2' });
  assert.deepEqual(modern.messages.at(-1), {
    error: {
      code: 'TOO_MANY_OFFERS',
      message: 'Too many offers on this key wait for an answer; try again once answered',
    },
  });
  h.send(late, { offer: 'l1' });
  assert.deepEqual(late.closed, { code: 1008, reason: 'Too many pending offers' });
  const relayed = host.messages.filter((m) => Object.hasOwn(m as object, 'offer'));
  assert.deepEqual(relayed, [
    { offer: 'm1', id: 1 },
    { offer: 'o1', id: 2 },
    { offer: 'o2', id: 2 },
  ]);
  h.send(host, { answer: 'to-modern' });
  h.send(modern, { offer: 'm2' });
  assert.deepEqual(host.messages.at(-1), { offer: 'm2', id: 1 }, 'an answer makes room');
});
