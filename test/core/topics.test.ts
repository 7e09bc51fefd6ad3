// y-webrtc topics in the core, without sockets: recognition of the dialect,
// fan-out with `clients`, limits, cleanup, and publications across processes
// of the loopback cluster.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoreHarness, type FakePeer } from '../support/core-harness.js';
import { LoopbackCluster } from '../cluster/loopback-cluster.js';

function member(h: CoreHarness, ...topics: string[]): FakePeer {
  const peer = h.open('v0');
  h.send(peer, { type: 'subscribe', topics });
  return peer;
}

test('a first frame with a y-webrtc type makes a v0 connection y-webrtc; v0 frames keep it v0', () => {
  const h = new CoreHarness();
  const y = member(h, 'doc');
  assert.equal(y.session.dialect, 'ywebrtc');
  const v0 = h.open('v0');
  h.send(v0, { key: 'k', type: 'subscribe' });
  assert.equal(v0.session.dialect, 'v0');
  const v1 = h.open('v1');
  h.send(v1, { type: 'subscribe', topics: ['doc'] });
  assert.equal(v1.session.dialect, 'v1');
  // Only the first frame decides.
  const late = h.open('v0');
  h.send(late, { key: 'late' });
  h.send(late, { type: 'ping' });
  assert.equal(late.session.dialect, 'v0');
});

test('a publication reaches every other subscriber with clients, never the publisher', () => {
  const h = new CoreHarness();
  const [a, b, c] = [member(h, 'doc'), member(h, 'doc'), member(h, 'doc', 'other')];
  const d = member(h, 'other');
  h.send(a, { type: 'publish', topic: 'doc', data: { type: 'announce', from: 'a' } });
  const expected = { type: 'publish', topic: 'doc', data: { type: 'announce', from: 'a' }, clients: 3 };
  assert.deepEqual(b.messages, [expected]);
  assert.deepEqual(c.messages, [expected]);
  assert.deepEqual(a.messages, []);
  assert.deepEqual(d.messages, []);
  assert.deepEqual(h.core.topicStats(), { topics: 2, subscriptions: 5 });
});

test('ping gets pong; unsubscribe and close leave topics; bad input is ignored', () => {
  const h = new CoreHarness();
  const [a, b] = [member(h, 'doc'), member(h, 'doc')];
  for (const bad of ['not json', '[1]', '{"type":"subscribe","topics":"doc"}', '{"type":"publish"}', '{"type":7}']) {
    h.send(a, bad);
  }
  h.send(a, { type: 'ping' });
  assert.deepEqual(a.messages, [{ type: 'pong' }]);
  assert.equal(a.closed, undefined);
  h.send(b, { type: 'unsubscribe', topics: ['doc'] });
  h.send(a, { type: 'publish', topic: 'doc', data: 'x' });
  assert.deepEqual(b.messages, []);
  h.end(a, 'clean');
  h.end(b, 'abrupt');
  assert.deepEqual(h.core.topicStats(), { topics: 0, subscriptions: 0 });
});

test('limits: topics per connection, subscribers per topic, publish size, publisher must subscribe', () => {
  const h = new CoreHarness({ maxTopics: 2, maxTopicMembers: 2, maxPublishBytes: 100 });
  const a = member(h, 't1', 't2', 't3');
  assert.deepEqual(h.core.topicStats(), { topics: 2, subscriptions: 2 });
  const b = member(h, 't1');
  const c = member(h, 't1');
  assert.deepEqual(h.core.topicStats(), { topics: 2, subscriptions: 3 }, 'a third subscriber to t1 is refused');
  h.send(c, { type: 'publish', topic: 't1', data: 'from a stranger' });
  h.send(a, { type: 'publish', topic: 't1', data: 'x'.repeat(100) });
  assert.deepEqual(b.messages, []);
  h.send(a, { type: 'publish', topic: 't1', data: 'é'.repeat(20) });
  assert.equal(b.messages.length, 1);
  for (const peer of [a, b, c]) assert.equal(peer.closed, undefined, 'refusals close nothing');
});

test('across processes: each process with subscribers gets one publication and fans it out', async () => {
  const cluster = new LoopbackCluster();
  const [p1, p2, p3] = ['p1', 'p2', 'p3'].map((id) => cluster.process(id));
  const subscribe = (p: NonNullable<typeof p1>, topic: string) => {
    const peer = p.open('v0');
    p.core.receive(peer.session, JSON.stringify({ type: 'subscribe', topics: [topic] }));
    return peer;
  };
  const a = subscribe(p1!, 'doc');
  const a2 = subscribe(p1!, 'doc');
  const b = subscribe(p2!, 'doc');
  const b2 = subscribe(p2!, 'doc');
  const c = subscribe(p3!, 'elsewhere');
  p1!.core.receive(a.session, JSON.stringify({ type: 'publish', topic: 'doc', data: { n: 1 } }));
  assert.deepEqual(a2.socket.take(), [{ type: 'publish', topic: 'doc', data: { n: 1 }, clients: 2 }]);
  await cluster.flush();
  const remote = { type: 'publish', topic: 'doc', data: { n: 1 }, clients: 4 };
  assert.deepEqual(b.socket.take(), [remote]);
  assert.deepEqual(b2.socket.take(), [remote]);
  assert.deepEqual(a.socket.take(), []);
  assert.deepEqual(c.socket.take(), []);
  // The last subscriber of a process leaves: its process stops hearing the topic.
  p2!.core.ended(b.session, 'clean', 1000, '');
  p2!.core.ended(b2.session, 'abrupt', 1006, '');
  const b3 = subscribe(p3!, 'doc');
  p1!.core.receive(a.session, JSON.stringify({ type: 'publish', topic: 'doc', data: 2 }));
  await cluster.flush();
  assert.deepEqual(b3.socket.take(), [{ type: 'publish', topic: 'doc', data: 2, clients: 3 }]);
  assert.deepEqual(p2!.core.topicStats(), { topics: 0, subscriptions: 0 });
});
