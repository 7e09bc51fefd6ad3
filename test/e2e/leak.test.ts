// Leak test: 10 000 connect, handshake and close cycles on real sockets leave
// the server's state and heap back at their baseline.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startServer, type TestServer } from '../support/server.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CYCLES = 10_000;
const WORKERS = 25;

async function cycle(server: TestServer, n: number): Promise<void> {
  const dialect = n % 2 === 0 ? 'v1' : 'v0';
  const host = await server.connect(dialect);
  host.send({ key: `leak-${n}` });
  if (dialect === 'v1') await host.next();
  const joiner = await server.connect(dialect);
  joiner.send({ joinkey: `leak-${n}` });
  await joiner.next();
  if (dialect === 'v1') await host.next();
  joiner.send({ offer: { type: 'offer', sdp: `v=0 ${n}` } });
  await host.next();
  host.send({ answer: { type: 'answer', sdp: `v=0 ${n}` } });
  await joiner.next();
  if (dialect === 'v1') {
    joiner.send({ candidate: { candidate: `c ${n}` } });
    await host.next();
  }
  // Alternate who leaves first and how: a close frame, or a dropped connection.
  if (n % 3 === 0) {
    await joiner.drop();
    await host.close();
  } else {
    await joiner.close();
    await host.close();
  }
}

async function run(server: TestServer, from: number, count: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < from + count) await cycle(server, next++);
    }),
  );
}

function settledHeap(): number {
  for (let i = 0; i < 4; i += 1) gc();
  return process.memoryUsage().heapUsed;
}

test(
  `${CYCLES} connect, handshake and close cycles leave state and heap at baseline`,
  { timeout: 240_000 },
  async (t) => {
    const server = await startServer(t, { rateLimit: 100_000, rateBurst: 100_000 });
    await run(server, 0, 1_000);
    const baseline = settledHeap();
    await run(server, 1_000, CYCLES);
    await server.idle();
    const after = settledHeap();

    assert.deepEqual(server.server.stats(), { connections: 0, keys: 0, joiners: 0, hostsAway: 0 });
    const growth = after - baseline;
    t.diagnostic(
      `heap baseline ${(baseline / 1e6).toFixed(1)} MB, after ${CYCLES} cycles ${(after / 1e6).toFixed(1)} MB`,
    );
    assert.ok(growth < 2_000_000, `heap grew by ${growth} bytes over ${CYCLES} cycles`);
  },
);
