// Fuzzing the JSON layer: values of random depth (past the 64-level limit
// too) and width, in every field of every dialect, sent by a host and its
// joiners (so that relays carry them) and by a y-webrtc subscriber.
// Invariants: the process lives, everything the server sends is JSON, a
// well-behaved pair completes its handshake meanwhile, and nothing is left.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { TestClient } from '../support/client.js';
import { startServer } from '../support/server.js';
import { valueArb } from './json-values.js';
import { fuzzParameters, heapAfterGc, wellBehavedPair } from './support.js';

const RUNS = 200;

/** A frame with a random value in one of the fields a client may send, or the value alone. */
const frameArb: fc.Arbitrary<string> = fc
  .record({
    field: fc.constantFrom(
      'key',
      'joinkey',
      'offer',
      'answer',
      'candidate',
      'ping',
      'answer+id',
      'candidate+id',
      'publish-topic',
      'publish-data',
      'subscribe',
      'value',
    ),
    value: valueArb,
    id: fc.constantFrom('1', '2', '"1"', 'null', '[1]'),
  })
  .map(({ field, value, id }) => {
    switch (field) {
      case 'answer+id':
        return `{"answer":${value},"id":${id}}`;
      case 'candidate+id':
        return `{"candidate":${value},"id":${id}}`;
      case 'publish-topic':
        return `{"type":"publish","topic":${value},"data":"x"}`;
      case 'publish-data':
        return `{"type":"publish","topic":"t","data":${value}}`;
      case 'subscribe':
        return `{"type":"subscribe","topics":${value}}`;
      case 'value':
        return value;
      default:
        return `{"${field}":${value}}`;
    }
  });

/** Who sends each frame: the host, one of its joiners (v1, v0), or the y-webrtc subscriber. */
const senderArb = fc.constantFrom('host', 'v1-joiner', 'v0-joiner', 'ywebrtc');
type Sender = 'host' | 'v1-joiner' | 'v0-joiner' | 'ywebrtc';

let rooms = 0;

function assertJson(text: string): void {
  assert.doesNotThrow(() => JSON.parse(text), `the server sent something that is not JSON: ${text.slice(0, 200)}`);
}

test(
  `random JSON of random depth and width in every field (${RUNS} runs): the server lives and answers JSON`,
  { timeout: 120_000 },
  async (t) => {
    const server = await startServer(t);
    await wellBehavedPair(server.url, server.url);
    const baseline = heapAfterGc();
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(senderArb, frameArb), { minLength: 1, maxLength: 10 }), async (script) => {
        const key = `json-${++rooms}`;
        const host = await server.connect('v1');
        host.send({ key });
        assert.equal(((await host.next()) as { registered: string }).registered, key);
        const v1Joiner = await server.connect('v1');
        v1Joiner.send({ joinkey: key });
        assert.deepEqual(await v1Joiner.next(), { reachable: 'true' });
        const v0Joiner = await server.connect('v0');
        v0Joiner.send({ joinkey: key });
        assert.deepEqual(await v0Joiner.next(), { reachable: 'true' });
        const subscriber = await server.connect('v0');
        subscriber.send({ type: 'subscribe', topics: ['t'] });
        const clients: Record<Sender, TestClient> = {
          host,
          'v1-joiner': v1Joiner,
          'v0-joiner': v0Joiner,
          ywebrtc: subscriber,
        };
        for (const [sender, frame] of script) {
          const client = clients[sender];
          if (client.ws.readyState === client.ws.OPEN) client.ws.send(frame);
          frames += 1;
        }
        await wellBehavedPair(server.url, server.url);
        // Each surviving v1 client has read everything: a ping's pong comes after every answer to its frames.
        for (const client of [host, v1Joiner]) {
          if (client.ws.readyState !== client.ws.OPEN) continue;
          client.send({ ping: 'sync' });
          for (;;) {
            // Closed or silent: nothing more to read.
            const text = await client.nextText().catch(() => null);
            if (text === null) break;
            assertJson(text);
            if ((JSON.parse(text) as { pong?: unknown }).pong === 'sync') break;
          }
        }
        for (const client of Object.values(clients)) {
          for (const text of client.pending) {
            assert.doesNotThrow(
              () => JSON.parse(text),
              `the server sent something that is not JSON: ${text.slice(0, 200)}`,
            );
          }
          client.ws.terminate();
        }
        await server.idle();
        const stats = server.server.stats();
        assert.equal(stats.connections, 0);
        assert.equal(stats.joiners, 0);
        assert.equal(stats.keys, stats.hostsAway, 'only hosts within their grace keep a key');
      }),
      fuzzParameters(RUNS),
    );
    const grown = heapAfterGc() - baseline;
    t.diagnostic(`heap after the runs: ${(grown / 2 ** 20).toFixed(2)} MiB above the baseline`);
    assert.ok(grown < 16 * 2 ** 20, `the heap grew by ${grown} bytes over ${RUNS} runs`);
    t.diagnostic(`${frames} frames sent`);
  },
);
