// The v0 dialect on real sockets: every row of PROTOCOL.md's v0 tables.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../support/server.js';
import { TestClient } from '../support/client.js';

const SDP_OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const SDP_ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n' };

test('completes the original client flow: key, joinkey, reachable, offer, answer', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'room-1' });
  const joiner = await connect();
  joiner.send({ joinkey: 'room-1' });
  assert.equal(await joiner.nextText(), '{"reachable":"true"}');
  joiner.send({ offer: SDP_OFFER });
  assert.deepEqual(await host.next(), { offer: SDP_OFFER });
  host.send({ answer: SDP_ANSWER });
  assert.deepEqual(await joiner.next(), { answer: SDP_ANSWER });
  assert.deepEqual(host.pending, [], 'a v0 host gets nothing when it registers or when a joiner attaches');
});

test('relays any JSON value untouched, as a JSON round trip would', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'k' });
  const payloads: unknown[] = [
    null,
    0,
    -1.5e300,
    'text "quoted" \u2028 😀',
    [1, [2, {}]],
    { nested: { deep: [true, false] } },
  ];
  let joiner!: TestClient;
  for (const payload of payloads) {
    // A v0 joiner gets one answer in its life: a new joiner for each.
    joiner = await connect();
    joiner.send({ joinkey: 'k' });
    await joiner.next();
    joiner.send({ offer: payload });
    assert.deepEqual(await host.next(), { offer: payload });
    host.send({ answer: payload });
    assert.deepEqual(await joiner.next(), { answer: payload });
  }
  // Same value as a round trip, whatever the spelling: spaces, 1.0, 1e2, escapes, duplicate names.
  joiner.send('{"offer": {"a" : 1.0, "b": 1e2, "s": "\\u0041", "d": 1, "d": 2}}');
  assert.deepEqual(await host.next(), { offer: { a: 1, b: 100, s: 'A', d: 2 } });
  // Where the spelling would read back differently, the round-tripped value is sent.
  joiner.send('{"offer": [-0, 1e400, -1e-400]}');
  assert.equal(await host.nextText(), '{"offer":[0,null,0]}');
});

test('accepts a connection on any request path', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect('v0', {}, '/some/path?x=1');
  host.send({ key: 'path-key' });
  const joiner = await connect('v0', {}, '/other');
  joiner.send({ joinkey: 'path-key' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
});

test('treats 42, 42.0 and "42" as the same key, and -0 as "0"', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send('{"key": 42.0}');
  for (const joinkey of ['42', '"42"', '42.0', '4.2e1']) {
    const joiner = await connect();
    joiner.send(`{"joinkey": ${joinkey}}`);
    assert.deepEqual(await joiner.next(), { reachable: 'true' }, `joinkey ${joinkey}`);
  }
  const zero = await connect();
  zero.send('{"key": -0}');
  const joiner = await connect();
  joiner.send({ joinkey: '0' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
});

test('the first field in the order key, joinkey, offer, answer decides', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ answer: 'ignored?', offer: 'x', joinkey: 'nope', key: 'order' });
  const joiner = await connect();
  joiner.send({ offer: 'x', joinkey: 'order', extra: true });
  assert.deepEqual(await joiner.next(), { reachable: 'true' }, 'joinkey wins over offer');
  joiner.send({ answer: 'a', offer: 'o' });
  assert.deepEqual(await host.next(), { offer: 'o' }, 'offer wins over answer');
});

test('routes answers to the oldest unanswered offer (FIFO)', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'fifo' });
  const a = await connect();
  const b = await connect();
  a.send({ joinkey: 'fifo' });
  b.send({ joinkey: 'fifo' });
  await a.next();
  await b.next();
  b.send({ offer: 'from-b' });
  assert.deepEqual(await host.next(), { offer: 'from-b' });
  a.send({ offer: 'from-a' });
  assert.deepEqual(await host.next(), { offer: 'from-a' });
  host.send({ answer: 'first' });
  host.send({ answer: 'second' });
  assert.deepEqual(await b.next(), { answer: 'first' });
  assert.deepEqual(await a.next(), { answer: 'second' });
});

test('the Netflux frame shape: candidates sent as offers and answers, then a second joiner gets its own answer', async (t) => {
  // Netflux's WebRTCService (2016) sends its ICE candidates as extra offer and answer frames.
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'netflux' });
  const first = await connect();
  first.send({ joinkey: 'netflux' });
  await first.next();
  first.send({ offer: { type: 'offer', sdp: 'v=0 first' } });
  for (let i = 0; i < 3; i += 1) first.send({ offer: { candidate: `candidate:${i}`, sdpMid: '0', sdpMLineIndex: 0 } });
  for (let i = 0; i < 4; i += 1) await host.next();
  host.send({ answer: { type: 'answer', sdp: 'v=0 to first' } });
  host.send({ answer: { candidate: 'candidate:h0', sdpMid: '0', sdpMLineIndex: 0 } });
  host.send({ answer: { candidate: 'candidate:h1', sdpMid: '0', sdpMLineIndex: 0 } });
  assert.deepEqual(await first.next(), { answer: { type: 'answer', sdp: 'v=0 to first' } });
  const second = await connect();
  second.send({ joinkey: 'netflux' });
  await second.next();
  second.send({ offer: { type: 'offer', sdp: 'v=0 second' } });
  second.send({ offer: { candidate: 'candidate:s0', sdpMid: '0', sdpMLineIndex: 0 } });
  assert.deepEqual(await host.next(), { offer: { type: 'offer', sdp: 'v=0 second' } });
  await host.next();
  host.send({ answer: { type: 'answer', sdp: 'v=0 to second' } });
  assert.deepEqual(await second.next(), { answer: { type: 'answer', sdp: 'v=0 to second' } });
  // A close the first joiner provokes now comes after anything sent to it before.
  first.send({ key: 'netflux' });
  assert.deepEqual(await first.waitClose(), { code: 1008, reason: 'Role already set' });
  assert.deepEqual(first.pending, [], 'the candidate answers reached nobody');
});

test("a v0 joiner's offer after its answer is forwarded; the host's next answer does not reach it", async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'once' });
  const a = await connect();
  a.send({ joinkey: 'once' });
  await a.next();
  a.send({ offer: 'a1' });
  assert.deepEqual(await host.next(), { offer: 'a1' });
  host.send({ answer: 'to-a' });
  assert.deepEqual(await a.next(), { answer: 'to-a' });
  a.send({ offer: 'a2' });
  assert.deepEqual(await host.next(), { offer: 'a2' }, 'forwarded');
  host.send({ answer: 'dropped' });
  const b = await connect();
  b.send({ joinkey: 'once' });
  await b.next();
  b.send({ offer: 'b1' });
  assert.deepEqual(await host.next(), { offer: 'b1' });
  host.send({ answer: 'to-b' });
  assert.deepEqual(await b.next(), { answer: 'to-b' });
  a.send({ key: 'once' });
  assert.deepEqual(await a.waitClose(), { code: 1008, reason: 'Role already set' });
  assert.deepEqual(a.pending, [], 'the first joiner got neither later answer');
});

test('a joiner that offers twice before its answer is queued once; leaving takes its place along', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'twice' });
  const a = await connect();
  a.send({ joinkey: 'twice' });
  await a.next();
  const b = await connect();
  b.send({ joinkey: 'twice' });
  await b.next();
  const c = await connect();
  c.send({ joinkey: 'twice' });
  await c.next();
  a.send({ offer: 'a1' });
  a.send({ offer: 'a2' });
  b.send({ offer: 'b1' });
  b.send({ offer: 'b2' });
  for (let i = 0; i < 4; i += 1) await host.next();
  c.send({ offer: 'c1' });
  await host.next();
  host.send({ answer: 'to-a' });
  assert.deepEqual(await a.next(), { answer: 'to-a' });
  await b.close();
  host.send({ answer: 'to-c' });
  assert.deepEqual(await c.next(), { answer: 'to-c' });
});

test('drops an answer when no offer is unanswered', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'drop' });
  host.send({ answer: 'nobody waits' });
  const joiner = await connect();
  joiner.send({ joinkey: 'drop' });
  await joiner.next();
  joiner.send({ offer: 'o' });
  assert.deepEqual(await host.next(), { offer: 'o' });
  host.send({ answer: 'real' });
  assert.deepEqual(await joiner.next(), { answer: 'real' }, 'the dropped answer was not queued');
});

const closeCases: Array<{
  name: string;
  setup?: 'host' | 'joiner';
  frame: string | Buffer;
  code: number;
  reason: string;
}> = [
  { name: 'a frame that is not JSON', frame: '{not json', code: 1003, reason: 'Server accepts only JSON' },
  { name: 'JSON that is not an object', frame: '[1,2]', code: 1007, reason: 'Unsupported message format' },
  { name: 'a JSON string', frame: '"key"', code: 1007, reason: 'Unsupported message format' },
  { name: 'null', frame: 'null', code: 1007, reason: 'Unsupported message format' },
  { name: 'an object with no known field', frame: '{"hello":1}', code: 1007, reason: 'Unsupported message format' },
  { name: 'a v1 field in v0 (candidate)', frame: '{"candidate":{}}', code: 1007, reason: 'Unsupported message format' },
  { name: 'a v1 field in v0 (ping)', frame: '{"ping":1}', code: 1007, reason: 'Unsupported message format' },
  { name: 'an unknown joinkey', frame: '{"joinkey":"nobody"}', code: 1008, reason: 'The key does not exist' },
  {
    name: 'an offer from a connection that is not a joiner',
    frame: '{"offer":1}',
    code: 1008,
    reason: 'Joinkey request has not been sent',
  },
  {
    name: 'an offer from a host',
    setup: 'host',
    frame: '{"offer":1}',
    code: 1008,
    reason: 'Joinkey request has not been sent',
  },
  {
    name: 'an answer from a connection that is not a host',
    frame: '{"answer":1}',
    code: 1008,
    reason: 'Key request has not been sent',
  },
  {
    name: 'an answer from a joiner',
    setup: 'joiner',
    frame: '{"answer":1}',
    code: 1008,
    reason: 'Key request has not been sent',
  },
  { name: 'key from a host', setup: 'host', frame: '{"key":"other"}', code: 1008, reason: 'Role already set' },
  { name: 'joinkey from a host', setup: 'host', frame: '{"joinkey":"target"}', code: 1008, reason: 'Role already set' },
  { name: 'key from a joiner', setup: 'joiner', frame: '{"key":"x"}', code: 1008, reason: 'Role already set' },
  {
    name: 'role check before key validity',
    setup: 'joiner',
    frame: '{"joinkey":""}',
    code: 1008,
    reason: 'Role already set',
  },
  { name: 'an empty key', frame: '{"key":""}', code: 1008, reason: 'Invalid key' },
  { name: 'a null key (v0 generates none)', frame: '{"key":null}', code: 1008, reason: 'Invalid key' },
  {
    name: 'a key of 257 code points',
    frame: JSON.stringify({ key: 'k'.repeat(257) }),
    code: 1008,
    reason: 'Invalid key',
  },
  { name: 'a lone surrogate', frame: '{"key":"a\\ud800"}', code: 1008, reason: 'Invalid key' },
  { name: 'a fractional key', frame: '{"key":1.5}', code: 1008, reason: 'Invalid key' },
  { name: 'an unsafe integer key', frame: '{"joinkey":9007199254740992}', code: 1008, reason: 'Invalid key' },
  { name: 'an object key', frame: '{"joinkey":{"a":1}}', code: 1008, reason: 'Invalid key' },
  { name: 'a key already held', frame: '{"key":"target"}', code: 1008, reason: 'The key already exists' },
  {
    name: 'a binary frame, even carrying JSON',
    frame: Buffer.from('{"key":"bin"}'),
    code: 1003,
    reason: 'Server accepts only JSON',
  },
];

for (const c of closeCases) {
  test(`closes ${c.code} "${c.reason}" on ${c.name}`, async (t) => {
    const { connect } = await startServer(t);
    const owner = await connect();
    owner.send({ key: 'target' });
    const client = await connect();
    if (c.setup === 'host') client.send({ key: 'mine' });
    if (c.setup === 'joiner') {
      client.send({ joinkey: 'target' });
      assert.deepEqual(await client.next(), { reachable: 'true' });
    }
    client.ws.send(c.frame);
    assert.deepEqual(await client.waitClose(), { code: c.code, reason: c.reason });
  });
}

test('accepts a key of 256 code points, astral characters included', async (t) => {
  const { connect } = await startServer(t);
  const key = '😀'.repeat(256);
  const host = await connect();
  host.send({ key });
  const joiner = await connect();
  joiner.send({ joinkey: key });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
});

test('closes 1009 on a frame over 65 536 bytes and accepts one of exactly 65 536', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'big' });
  const joiner = await connect();
  joiner.send({ joinkey: 'big' });
  await joiner.next();
  const envelope = '{"offer":""}';
  const exact = `{"offer":"${'x'.repeat(65_536 - envelope.length)}"}`;
  assert.equal(Buffer.byteLength(exact), 65_536);
  joiner.send(exact);
  assert.equal(((await host.next()) as { offer: string }).offer.length, 65_536 - envelope.length);
  joiner.send(`{"offer":"${'x'.repeat(65_537 - envelope.length)}"}`);
  assert.equal((await joiner.waitClose()).code, 1009);
});

test('closes 1008 "Too many joiners" past the joiner limit', async (t) => {
  const { connect } = await startServer(t, { maxJoiners: 2 });
  const host = await connect();
  host.send({ key: 'full' });
  for (let i = 0; i < 2; i += 1) {
    const joiner = await connect();
    joiner.send({ joinkey: 'full' });
    await joiner.next();
  }
  const extra = await connect();
  extra.send({ joinkey: 'full' });
  assert.deepEqual(await extra.waitClose(), { code: 1008, reason: 'Too many joiners' });
});

test('frees a key the moment its host is gone', async (t) => {
  const { connect, nextEnd } = await startServer(t);
  const host = await connect();
  host.send({ key: 'again' });
  const joiner = await connect();
  joiner.send({ joinkey: 'again' });
  await joiner.next();
  const seen = nextEnd();
  await host.drop();
  await seen;
  const next = await connect();
  next.send({ key: 'again' });
  const probe = await connect();
  probe.send({ joinkey: 'again' });
  assert.deepEqual(await probe.next(), { reachable: 'true' });
});

test('when the host leaves, closes unanswered joiners and keeps answered ones', async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'leaving' });
  const answered = await connect();
  answered.send({ joinkey: 'leaving' });
  await answered.next();
  answered.send({ offer: 'o' });
  await host.next();
  host.send({ answer: 'a' });
  await answered.next();
  const waiting = await connect();
  waiting.send({ joinkey: 'leaving' });
  await waiting.next();
  await host.close();
  assert.deepEqual(await waiting.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
  // The answered joiner is still connected; a later offer is refused.
  answered.send({ offer: 'again' });
  assert.deepEqual(await answered.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
});

test("an answered joiner of a departed host is not attached to the key's next host", async (t) => {
  const { connect } = await startServer(t);
  const host = await connect();
  host.send({ key: 'reuse' });
  const joiner = await connect();
  joiner.send({ joinkey: 'reuse' });
  await joiner.next();
  joiner.send({ offer: 'o' });
  await host.next();
  host.send({ answer: 'a' });
  await joiner.next();
  await host.close();
  const next = await connect();
  next.send({ key: 'reuse' });
  joiner.send({ joinkey: 'reuse' });
  assert.deepEqual(await joiner.waitClose(), { code: 1008, reason: 'Role already set' });
});

test('50 pairs at once each receive exactly their own offer and answer', async (t) => {
  const { connect } = await startServer(t);
  const pairs = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const host = await connect();
      host.send({ key: `pair-${i}` });
      const joiner = await connect();
      return { i, host, joiner };
    }),
  );
  await Promise.all(
    pairs.map(async ({ i, host, joiner }) => {
      joiner.send({ joinkey: `pair-${i}` });
      assert.deepEqual(await joiner.next(), { reachable: 'true' });
      joiner.send({ offer: { from: i } });
      assert.deepEqual(await host.next(), { offer: { from: i } });
      host.send({ answer: { to: i } });
      assert.deepEqual(await joiner.next(), { answer: { to: i } });
    }),
  );
  for (const { host, joiner } of pairs) {
    assert.deepEqual(host.pending, []);
    assert.deepEqual(joiner.pending, []);
  }
});

test('refuses a text frame that is not valid UTF-8 with 1007', async (t) => {
  const { url } = await startServer(t);
  const client = await TestClient.connect(url);
  // ws validates UTF-8 on send only for strings, so write a raw frame: FIN + text opcode, masked.
  const payload = Buffer.from([0xc3, 0x28]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  assert.equal((await client.waitClose()).code, 1007);
});
