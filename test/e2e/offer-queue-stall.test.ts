// Issue #11 row 5: many joiners offer to a host that reads but never answers,
// then all leave. At default limits the answer queue is capped and a
// departure costs only its own entries: the server's event loop is never
// blocked long, and an unrelated client's ping is answered meanwhile.

import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';
import type { ProbeCommand, ProbeMessage } from '../support/stall-probe.js';

const JOINERS_PER_DIALECT = 128;
/** Offers per joiner: most of the default burst of 200 (joinkey and ping take two more). */
const OFFERS = 190;
/** The default --max-pending-offers. */
const MAX_PENDING_OFFERS = 1_024;
/** Generous: a liveness check on a busy machine, not a timing. */
const LIVENESS_MS = 30_000;

test('256 joiners flooding offers at a host that never answers, then leaving, never stall the server 500 ms', async (t) => {
  const child = fork(fileURLToPath(new URL('../support/stall-probe.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.connected) child.disconnect();
    await withTimeout(exited, 'the probe to exit', LIVENESS_MS).catch(() => child.kill('SIGKILL'));
  });
  const ask = async <T extends ProbeMessage['type']>(command: ProbeCommand | null, type: T) => {
    const reply = new Promise<Extract<ProbeMessage, { type: T }>>((resolve) => {
      const listen = (message: ProbeMessage): void => {
        if (message.type !== type) return;
        child.off('message', listen);
        resolve(message as Extract<ProbeMessage, { type: T }>);
      };
      child.on('message', listen);
    });
    if (command !== null) child.send(command);
    return withTimeout(reply, `the probe's ${type}`, LIVENESS_MS);
  };
  const { url } = await ask(null, 'listening');
  const phases: string[] = [];
  let worst = 0;
  const measure = async (phase: string): Promise<void> => {
    const { maxDelayMs, maxTurnCpuMs, cpuMs } = await ask('report', 'report');
    phases.push(
      `${phase}: worst turn ${maxTurnCpuMs.toFixed(0)} ms CPU, ${maxDelayMs.toFixed(0)} ms loop delay; ${cpuMs.toFixed(0)} ms CPU in all`,
    );
    worst = Math.max(worst, maxTurnCpuMs);
  };
  const clients: TestClient[] = [];
  t.after(() => clients.forEach((client) => client.ws.terminate()));
  const connect = async (dialect: 'v0' | 'v1'): Promise<TestClient> => {
    const client = await TestClient.connect(url, dialect);
    clients.push(client);
    return client;
  };

  const bystander = await connect('v1');
  bystander.send({ key: 'bystander' });
  await bystander.next(LIVENESS_MS);

  // The host reads everything and answers nothing.
  const host = await connect('v0');
  host.send({ key: 'never-answers' });
  let offersRead = 0;
  let offersExpected = 0;
  let allRead = (): void => {};
  host.ws.on('message', () => {
    offersRead += 1;
    if (offersRead === offersExpected) allRead();
  });

  const join = async (dialect: 'v0' | 'v1'): Promise<TestClient> => {
    const joiner = await connect(dialect);
    joiner.send({ joinkey: 'never-answers' });
    assert.deepEqual(await joiner.next(LIVENESS_MS), { reachable: 'true' });
    return joiner;
  };
  await measure('joining');
  // v0 joiners first: each holds one place in the queue, and its later offers are only forwarded.
  const old = await Promise.all(Array.from({ length: JOINERS_PER_DIALECT }, () => join('v0')));
  const modern = await Promise.all(Array.from({ length: JOINERS_PER_DIALECT }, () => join('v1')));
  // Small offers: the host must keep up reading (1 MiB unsent would close it as a slow consumer).
  const offer = 'o';
  // Each joiner sends its whole burst at once, one joiner after the other: the
  // server's work per burst is linear in it; what is measured is what a burst
  // leaves behind.
  offersExpected = 0;
  for (const joiner of old) {
    offersExpected += OFFERS;
    const read = new Promise<void>((resolve) => (allRead = resolve));
    for (let i = 0; i < OFFERS; i += 1) joiner.send({ offer });
    await withTimeout(read, 'the host to read the offers', LIVENESS_MS);
  }
  // v1 joiners hold a place per offer, up to the room's cap; the rest are refused.
  let refused = 0;
  for (const joiner of modern) {
    for (let i = 0; i < OFFERS; i += 1) joiner.send({ offer });
    joiner.send({ ping: 'done' });
    for (;;) {
      const message = (await joiner.next(LIVENESS_MS)) as { pong?: unknown; error?: { code: string } };
      if (message.pong !== undefined) break;
      assert.equal(message.error?.code, 'TOO_MANY_OFFERS', JSON.stringify(message));
      refused += 1;
    }
  }
  const queuedByModern = MAX_PENDING_OFFERS - JOINERS_PER_DIALECT;
  assert.equal(refused, JOINERS_PER_DIALECT * OFFERS - queuedByModern, 'the queue stops at --max-pending-offers');
  offersExpected += queuedByModern;
  if (offersRead < offersExpected) {
    const read = new Promise<void>((resolve) => (allRead = resolve));
    await withTimeout(read, 'the host to read every forwarded offer', LIVENESS_MS);
  }
  assert.equal(offersRead, offersExpected);
  await measure('offering');
  // Everybody leaves at once; the bystander's ping must still be answered.
  for (const joiner of [...old, ...modern]) joiner.ws.close();
  bystander.send({ ping: 'still there?' });
  assert.deepEqual(await bystander.next(LIVENESS_MS), { pong: 'still there?' });
  await Promise.all([...old, ...modern].map((joiner) => joiner.waitClose(LIVENESS_MS)));
  for (;;) {
    const { joiners } = await ask('stats', 'stats');
    if (joiners === 0) break;
    bystander.send({ ping: 'sync' });
    await bystander.next(LIVENESS_MS);
  }

  await measure('leaving');
  t.diagnostic(`server, per phase: ${phases.join('; ')}`);
  // CPU per turn, not wall time: on a shared machine the wall clock also counts other processes' turns.
  assert.ok(worst < 500, `the server's event loop was blocked ${worst.toFixed(0)} ms (${phases.join('; ')})`);
});
