// Random frames from several real connections in both dialects: the server
// answers each as documented, never crashes, and ends with nothing left.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { startServer } from '../support/server.js';
import type { Dialect } from '../../src/protocol/index.js';

const frameArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom('a', 'b').map((key) => JSON.stringify({ key })),
  fc.constantFrom('a', 'b').map((joinkey) => JSON.stringify({ joinkey })),
  fc
    .record({ kind: fc.constantFrom('offer', 'answer', 'candidate', 'ping'), value: fc.jsonValue({ maxDepth: 2 }) })
    .map(({ kind, value }) => JSON.stringify({ [kind]: value })),
  fc.json({ maxDepth: 2 }),
  fc.string({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
);

test('random frames on real sockets never disturb the server', async (t) => {
  const server = await startServer(t);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom<Dialect>('v0', 'v1'), { minLength: 2, maxLength: 5 }),
      fc.array(fc.tuple(fc.nat(4), frameArb), { minLength: 1, maxLength: 30 }),
      async (dialects, frames) => {
        const clients = await Promise.all(dialects.map((dialect) => server.connect(dialect)));
        for (const [index, frame] of frames) {
          const client = clients[index % clients.length]!;
          if (client.ws.readyState === client.ws.OPEN) client.ws.send(frame);
        }
        // A ping on each surviving v1 connection proves every earlier frame was handled.
        await Promise.all(
          clients.map(async (client, i) => {
            if (dialects[i] !== 'v1' || client.ws.readyState !== client.ws.OPEN) return;
            client.send({ ping: 'sync' });
            for (;;) {
              const message = (await client.next().catch(() => ({ pong: 'sync' }))) as { pong?: unknown };
              if (message.pong === 'sync') return;
            }
          }),
        );
        for (const client of clients) client.ws.terminate();
        await server.idle();
        const stats = server.server.stats();
        assert.equal(stats.connections, 0);
        assert.equal(stats.joiners, 0);
        assert.equal(stats.keys, stats.hostsAway, 'only hosts within their grace keep a key');
      },
    ),
    { numRuns: 40 },
  );
  const host = await server.connect('v0');
  host.send({ key: 'after-fuzz' });
  const joiner = await server.connect('v0');
  joiner.send({ joinkey: 'after-fuzz' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
});
