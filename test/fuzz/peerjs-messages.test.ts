// Fuzzing the PeerJS dialect: messages of random type, destination and
// payload (JSON of random depth and width, past the 64-level limit too) from
// PeerJS peers, some addressed to ids not connected (the mailbox).
// Invariants: the process lives, everything the server sends is JSON, the
// ids are free again once their sockets are gone, and a well-behaved PeerJS
// pair exchanges an offer and an answer meanwhile.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { TestClient } from '../support/client.js';
import { startServer, type TestServer } from '../support/server.js';
import { valueArb } from './json-values.js';
import { fuzzParameters, heapAfterGc } from './support.js';

const RUNS = 150;

const typeArb = fc.oneof(
  fc.constantFrom('"OFFER"', '"ANSWER"', '"CANDIDATE"', '"LEAVE"', '"EXPIRE"', '"HEARTBEAT"', '"ID-TAKEN"', '"OPEN"'),
  { arbitrary: valueArb, weight: 1 },
);
/** Destinations: the other fuzzed peer, itself, an id nobody holds (queued), or not an id at all. */
const dstArb = fc.oneof(fc.constantFrom('"b"', '"a"', '"nobody"', '""'), { arbitrary: valueArb, weight: 1 });

const frameArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({ type: typeArb, dst: dstArb, payload: valueArb, withDst: fc.boolean() })
      .map(({ type, dst, payload, withDst }) =>
        withDst ? `{"type":${type},"dst":${dst},"payload":${payload}}` : `{"type":${type},"payload":${payload}}`,
      ),
  },
  { weight: 1, arbitrary: valueArb },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

let runs = 0;

/** A PeerJS peer's socket in realm `realm`, past its OPEN. */
async function peer(server: TestServer, realm: string, id: string): Promise<TestClient> {
  const client = await server.connect('v0', {}, `/peerjs?key=${realm}&id=${id}&token=t-${id}&version=1.5.5`);
  assert.deepEqual(await client.next(), { type: 'OPEN' });
  return client;
}

function assertJson(text: string): void {
  assert.doesNotThrow(() => JSON.parse(text), `the server sent something that is not JSON: ${text.slice(0, 200)}`);
}

/** Two peers of `realm` exchange an offer and an answer, `src` set by the server. */
async function wellBehavedPeers(server: TestServer, realm: string): Promise<void> {
  const alice = await peer(server, realm, 'alice');
  const bob = await peer(server, realm, 'bob');
  try {
    alice.send({ type: 'OFFER', dst: 'bob', payload: { sdp: { type: 'offer', sdp: 'v=0' }, connectionId: 'dc' } });
    assert.deepEqual(await bob.next(), {
      type: 'OFFER',
      src: 'alice',
      dst: 'bob',
      payload: { sdp: { type: 'offer', sdp: 'v=0' }, connectionId: 'dc' },
    });
    bob.send({ type: 'ANSWER', dst: 'alice', payload: { sdp: { type: 'answer', sdp: 'v=0' }, connectionId: 'dc' } });
    assert.deepEqual(await alice.next(), {
      type: 'ANSWER',
      src: 'bob',
      dst: 'alice',
      payload: { sdp: { type: 'answer', sdp: 'v=0' }, connectionId: 'dc' },
    });
  } finally {
    alice.ws.terminate();
    bob.ws.terminate();
  }
}

test(
  `random PeerJS messages (${RUNS} runs): the server lives, answers JSON, and frees every id`,
  { timeout: 120_000 },
  async (t) => {
    const server = await startServer(t, { peerjsExpireMs: 200 });
    await wellBehavedPeers(server, 'warm-up');
    await server.idle();
    const baseline = heapAfterGc();
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), frameArb), { minLength: 1, maxLength: 12 }), async (script) => {
        const realm = `fuzz-${++runs}`;
        const a = await peer(server, realm, 'a');
        const b = await peer(server, realm, 'b');
        for (const [fromA, frame] of script) {
          const client = fromA ? a : b;
          if (client.ws.readyState === client.ws.OPEN) client.ws.send(frame);
          frames += 1;
        }
        await wellBehavedPeers(server, realm);
        // A HEARTBEAT has no answer: a message to itself, relayed back, marks the end of what each may read.
        for (const client of [a, b]) {
          if (client.ws.readyState !== client.ws.OPEN) continue;
          const self = client === a ? 'a' : 'b';
          client.send({ type: 'CANDIDATE', dst: self, payload: { sync: true } });
          for (;;) {
            const text = await client.nextText().catch(() => null);
            if (text === null) break;
            assertJson(text);
            if ((JSON.parse(text) as { payload?: { sync?: unknown } }).payload?.sync === true) break;
          }
        }
        for (const client of [a, b]) {
          for (const text of client.pending) assertJson(text);
          client.ws.terminate();
        }
        await server.idle();
        assert.equal(server.server.stats().connections, 0);
        // Their ids are free again: a new socket for each is OPEN, not ID-TAKEN.
        const again = [await peer(server, realm, 'a'), await peer(server, realm, 'b')];
        for (const client of again) client.ws.terminate();
        await server.idle();
      }),
      fuzzParameters(RUNS),
    );
    const grown = heapAfterGc() - baseline;
    t.diagnostic(`${frames} frames sent; heap after the runs: ${(grown / 2 ** 20).toFixed(2)} MiB above the baseline`);
    assert.ok(grown < 16 * 2 ** 20, `the heap grew by ${grown} bytes over ${RUNS} runs`);
  },
);
