// Property-based test of the signaling core: many connections, random
// sequences of valid and invalid messages in both dialects, invariants
// checked after every step.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CoreHarness, type FakePeer } from '../support/core-harness.js';
import { readJoinerId, type Dialect } from '../../src/protocol/index.js';
import { roleName } from '../../src/core/session.js';

type Action =
  | { type: 'open'; dialect: Dialect }
  | { type: 'pair'; host: Dialect; joiner: Dialect; key: string }
  | { type: 'send'; peer: number; message: unknown }
  /** A relay from a peer that has a role (a host or joiner), so that offers and answers meet. */
  | { type: 'talk'; peer: number; message: unknown }
  | { type: 'resume'; peer: number; key: string; token: number }
  | { type: 'end'; peer: number; kind: 'clean' | 'abrupt' }
  | { type: 'advance'; ms: number };

const keyArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<unknown>('a', 'b') },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(1, '1', null, '', 1.5, { x: 1 }) },
);
const idArb = fc.option(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom<unknown>(0, -1, '1', null)), {
  nil: undefined,
  freq: 2,
});
const payloadArb = fc.jsonValue({ maxDepth: 2 });
const relayArb = fc.record({
  kind: fc.constantFrom('offer', 'answer', 'candidate'),
  payload: payloadArb,
  id: idArb,
});

const messageArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: keyArb.map((key) => ({ key })) },
  { weight: 4, arbitrary: keyArb.map((joinkey) => ({ joinkey })) },
  { weight: 12, arbitrary: relayArb },
  { weight: 1, arbitrary: payloadArb.map((ping) => ({ ping })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 1 }) },
);

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  // v0 connections close on their first mistake, so most are v1 to keep sessions alive long enough to matter.
  {
    weight: 4,
    arbitrary: fc.constantFrom<Dialect>('v0', 'v1', 'v1', 'v1').map((dialect) => ({ type: 'open' as const, dialect })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('pair' as const),
      host: fc.constantFrom<Dialect>('v0', 'v1'),
      joiner: fc.constantFrom<Dialect>('v0', 'v1'),
      key: fc.constantFrom('a', 'b', 'c'),
    }),
  },
  { weight: 14, arbitrary: fc.record({ type: fc.constant('send' as const), peer: fc.nat(15), message: messageArb }) },
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('talk' as const),
      peer: fc.nat(15),
      message: fc.record({
        kind: fc.constantFrom('offer', 'offer', 'answer', 'answer', 'candidate'),
        payload: payloadArb,
        id: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined, freq: 3 }),
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('resume' as const),
      peer: fc.nat(15),
      key: fc.constantFrom('a', 'b', '1'),
      token: fc.nat(5),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('end' as const),
      peer: fc.nat(15),
      kind: fc.constantFrom<'clean' | 'abrupt'>('clean', 'abrupt'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.constantFrom(10, 600, 2_000) }) },
);

/** Builds the frame for a relay action; payloads are tagged so deliveries can be traced. */
function frameOf(message: unknown, uid: number): { frame: string; tagged?: unknown } {
  if (typeof message === 'string') return { frame: message };
  const relay = message as { kind?: string; payload?: unknown; id?: unknown };
  if (relay.kind === undefined) return { frame: JSON.stringify(message) };
  const tagged = { uid, value: relay.payload };
  const body: Record<string, unknown> = { [relay.kind]: tagged };
  if (relay.id !== undefined) body.id = relay.id;
  return { frame: JSON.stringify(body), tagged };
}

function keyOf(peer: FakePeer): string | undefined {
  const role = peer.session.role;
  return role.kind === 'host' || role.kind === 'joiner' ? role.room.key : undefined;
}

function checkInvariants(h: CoreHarness, peers: FakePeer[]): void {
  const snapshot = h.core.snapshot();
  const hosts = new Map<number, string>();
  for (const room of snapshot.rooms) {
    if (room.host !== null) {
      assert.ok(!hosts.has(room.host.conn), 'a connection hosts at most one key');
      hosts.set(room.host.conn, room.key);
    }
    for (const joiner of room.joiners) {
      const peer = peers[joiner.address.conn - 1]!;
      const role = peer.session.role;
      assert.ok(role.kind === 'joiner' && role.room.key === room.key && role.id === joiner.id, 'room and joiner agree');
    }
  }
  for (const peer of peers) {
    const role = peer.session.role;
    if (peer.session.released) assert.equal(role.kind, 'none', 'a released session has no role');
    if (role.kind === 'host')
      assert.equal(hosts.get(peer.session.address.conn), role.room.key, "each host is its room's host");
    assert.notEqual(role.kind, 'waiting', 'one process never waits');
  }
  // The counts a metrics scrape reads are kept up to date, not walked: they must match a walk.
  const census = h.core.census();
  const walked = new Map<string, number>();
  for (const peer of peers) {
    if (peer.session.released) continue;
    const name = `${peer.session.dialect}/${roleName(peer.session.role)}`;
    walked.set(name, (walked.get(name) ?? 0) + 1);
  }
  for (const [dialect, roles] of Object.entries(census)) {
    for (const [role, count] of Object.entries(roles)) {
      assert.equal(count, walked.get(`${dialect}/${role}`) ?? 0, `census of ${dialect} ${role}`);
    }
  }
  const stats = h.core.stats();
  assert.equal(
    stats.joiners,
    snapshot.rooms.reduce((sum, room) => sum + room.joiners.length, 0),
    'joiners counted',
  );
  assert.equal(stats.hostsAway, snapshot.rooms.filter((room) => room.host === null).length, 'hosts away counted');
}

/**
 * The answer-routing rule (PROTOCOL.md, "Answer routing") as a model: per
 * room, joiners queued in the order of their first offer, a v0 joiner once
 * in its life, a v1 joiner once per offer.
 */
class AnswerModel {
  private readonly rooms = new Map<string, { queue: Array<{ id: number; peer: FakePeer }>; queued: Set<number> }>();

  /** A joiner's offer reached its host. */
  offered(joiner: FakePeer): void {
    const role = joiner.session.role;
    assert.equal(role.kind, 'joiner');
    if (role.kind !== 'joiner') return;
    const room = this.room(role.room);
    if (joiner.dialect === 'v0' && room.queued.has(role.id)) return;
    room.queued.add(role.id);
    room.queue.push({ id: role.id, peer: joiner });
  }

  /** The joiner a host's answer must reach (it leaves the queue), or undefined when nobody waits for it. */
  answered(host: FakePeer, rawId: unknown): FakePeer | undefined {
    const role = host.session.role;
    if (role.kind !== 'host') return undefined;
    const queue = this.room(role.room).queue;
    const id = host.dialect === 'v1' ? readJoinerId(rawId) : undefined;
    const index = id === undefined ? 0 : queue.findIndex((entry) => entry.id === id);
    return index < 0 ? undefined : queue.splice(index, 1)[0]?.peer;
  }

  /** Joiners that left take their places with them. */
  prune(): void {
    for (const [name, room] of this.rooms) {
      room.queue = room.queue.filter(({ id, peer }) => {
        const role = peer.session.role;
        return role.kind === 'joiner' && role.id === id && roomName(role.room) === name;
      });
    }
  }

  private room(address: { key: string; room: number }) {
    const name = roomName(address);
    let room = this.rooms.get(name);
    if (room === undefined) this.rooms.set(name, (room = { queue: [], queued: new Set() }));
    return room;
  }
}

function roomName(address: { key: string; room: number }): string {
  return `${address.key}#${address.room}`;
}

/** The peers that received relay `kind` tagged `uid` since `before`. */
function receiversOf(peers: FakePeer[], before: number[], kind: string, uid: number): FakePeer[] {
  return peers.filter((peer, i) =>
    peer.received.slice(before[i] ?? 0).some((text) => {
      const tagged = (JSON.parse(text) as Record<string, { uid?: unknown } | null>)[kind];
      return typeof tagged === 'object' && tagged !== null && tagged.uid === uid;
    }),
  );
}

test('random traffic in both dialects keeps the core consistent and every delivery within its key', (t) => {
  const seen = { delivered: 0, registered: 0, joined: 0, resumed: 0, answersRouted: 0, v0OffersUnqueued: 0 };
  fc.assert(
    fc.property(fc.array(actionArb, { minLength: 1, maxLength: 120, size: 'max' }), (actions) => {
      const h = new CoreHarness();
      const peers: FakePeer[] = [];
      const tokens: Array<{ key: string; token: string }> = [];
      const sentIn = new Map<number, { key: string; value: unknown }>();
      const model = new AnswerModel();
      let uid = 0;

      const audit = (peer: FakePeer, from: number): void => {
        for (const text of peer.received.slice(from)) {
          const message = JSON.parse(text) as Record<string, unknown>;
          const registered = message.registered;
          if (typeof registered === 'string') {
            seen.registered += 1;
            if (tokens.some((t) => t.token === message.token)) seen.resumed += 1;
            tokens.push({ key: registered, token: message.token as string });
          }
          if (message.reachable === 'true') seen.joined += 1;
          for (const kind of ['offer', 'answer', 'candidate']) {
            const tagged = message[kind] as { uid?: number; value?: unknown } | undefined;
            if (tagged === undefined || tagged === null || typeof tagged.uid !== 'number') continue;
            const origin = sentIn.get(tagged.uid);
            assert.ok(origin, 'every delivery was sent by somebody');
            assert.equal(keyOf(peer) ?? origin.key, origin.key, 'delivered within its key');
            assert.deepEqual(tagged.value, origin.value, 'payload untouched');
            seen.delivered += 1;
          }
        }
      };

      for (const action of actions) {
        const before = peers.map((p) => p.received.length);
        switch (action.type) {
          case 'open':
            peers.push(h.open(action.dialect));
            break;
          case 'pair': {
            const host = h.open(action.host);
            const joiner = h.open(action.joiner);
            peers.push(host, joiner);
            before.push(0, 0);
            h.send(host, { key: action.key });
            h.send(joiner, { joinkey: action.key });
            break;
          }
          case 'send':
          case 'talk': {
            const candidates = action.type === 'send' ? peers : peers.filter((p) => keyOf(p) !== undefined);
            const peer = candidates[action.peer % Math.max(1, candidates.length)];
            if (peer === undefined || peer.session.released) break;
            uid += 1;
            const { frame, tagged } = frameOf(action.message, uid);
            const key = keyOf(peer);
            if (tagged !== undefined && key !== undefined) {
              sentIn.set(uid, { key, value: JSON.parse(JSON.stringify((tagged as { value: unknown }).value)) });
            }
            const relay = action.message as { kind?: string; id?: unknown };
            const role = peer.session.role.kind;
            const expected = role === 'host' && relay.kind === 'answer' ? model.answered(peer, relay.id) : undefined;
            h.send(peer, frame);
            if (role === 'host' && relay.kind === 'answer') {
              assert.deepEqual(
                receiversOf(peers, before, 'answer', uid),
                expected === undefined ? [] : [expected],
                'the answer reaches the joiner the routing rule names, or nobody',
              );
              if (expected !== undefined) seen.answersRouted += 1;
            }
            if (role === 'joiner' && relay.kind === 'offer' && receiversOf(peers, before, 'offer', uid).length > 0) {
              if (peer.dialect === 'v0' && peer.session.answered) seen.v0OffersUnqueued += 1;
              model.offered(peer);
            }
            break;
          }
          case 'resume': {
            const peer = peers[action.peer % Math.max(1, peers.length)];
            const known = tokens.filter((t) => t.key === action.key);
            const token = known[action.token % Math.max(1, known.length)]?.token ?? 'bogus';
            if (peer !== undefined && !peer.session.released) h.send(peer, { key: action.key, token });
            break;
          }
          case 'end': {
            const peer = peers[action.peer % Math.max(1, peers.length)];
            if (peer !== undefined && !peer.session.released) h.end(peer, action.kind);
            break;
          }
          case 'advance':
            h.clock.advance(action.ms);
            break;
        }
        peers.forEach((peer, i) => audit(peer, before[i] ?? 0));
        model.prune();
        checkInvariants(h, peers);
      }

      for (const peer of peers) if (!peer.session.released) h.end(peer, 'abrupt');
      h.clock.advance(10_000);
      assert.deepEqual(h.core.stats(), { connections: 0, keys: 0, joiners: 0, hostsAway: 0 });
      assert.equal(h.clock.pendingTimers, 0, 'no timer is left');
    }),
    { numRuns: 1_000 },
  );
  t.diagnostic(`exercised: ${JSON.stringify(seen)}`);
  // The generator must reach the interesting states, or the invariants prove little.
  assert.ok(
    seen.delivered > 300 &&
      seen.joined > 100 &&
      seen.resumed > 5 &&
      seen.answersRouted > 100 &&
      seen.v0OffersUnqueued > 0,
    JSON.stringify(seen),
  );
});
