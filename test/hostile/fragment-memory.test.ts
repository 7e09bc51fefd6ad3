// Issue #11 row 3: a client sends a text message as thousands of 1-byte
// non-final fragments and never finishes it. The server, in a child process,
// must hold at most 4 times the bytes sent plus 16 KiB per connection, close
// such a client 1008 `Message sent in too small pieces`, and drop an
// unfinished message after --message-timeout-ms with 1008
// `Message not finished in time` (docs/PROTOCOL.md, Limits).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withTimeout } from '../support/waits.js';
import { OPCODE, clientFrame, openMany, turn, type RawWebSocket } from './support/raw-websocket.js';
import { assertMemoryBound, startProbe } from './support/probe-process.js';

const CONNECTIONS = 200;
/** Connections holding an unfinished message: more, to average out the noise of a small growth. */
const HELD = 400;
const ONE_BYTE = Buffer.from('x');
const FIRST = clientFrame(OPCODE.text, ONE_BYTE, false);
const MORE = clientFrame(OPCODE.continuation, ONE_BYTE, false);

test('thousands of 1-byte fragments: memory stays within 4x the bytes sent, and the sender is closed 1008', async (t) => {
  const probe = await startProbe(t);
  const clients = await openMany(t, probe.url, CONNECTIONS);
  const before = await probe.measureWith(CONNECTIONS);

  // 3 000 fragments each, 50 to a write, interleaved across the connections.
  const fifty = Buffer.concat(Array.from({ length: 50 }, () => MORE));
  for (const client of clients) client.write(FIRST);
  for (let round = 0; round < 60; round += 1) {
    for (const client of clients) client.write(fifty);
    await turn();
  }
  // A pong says the server has read everything before it.
  await Promise.all(clients.map((client) => client.ping()));
  assertMemoryBound(t, before, await probe.measure(), clients);

  const endings = await withTimeout(
    Promise.all(clients.map((client) => client.ended)),
    'every attacker to be closed',
    20_000,
  );
  for (const ending of endings) assert.deepEqual(ending, { code: 1008, reason: 'Message sent in too small pieces' });
  await probe.measureWith(0);
});

test('a message left unfinished within the pieces rule is dropped after --message-timeout-ms, closed 1008', async (t) => {
  const timeoutMs = 3_000;
  const probe = await startProbe(t, { messageTimeoutMs: timeoutMs });
  // About as many pieces as the rule lets a message of 1-byte fragments have:
  // each fragment its own read (a pong before the next), and its ping
  // perhaps another, so up to three pieces each.
  const holdUnfinished = async (clients: readonly RawWebSocket[]): Promise<void> => {
    for (let i = 0; i < 10; i += 1) {
      for (const client of clients) client.write(i === 0 ? FIRST : MORE);
      assert.ok((await Promise.all(clients.map((client) => client.ping()))).every((answer) => answer === 'pong'));
    }
  };
  // A first round, dropped by the clients, so that the baseline includes
  // what the server allocates once (compiled code, heap spaces).
  const warmUp = await openMany(t, probe.url, HELD);
  await holdUnfinished(warmUp);
  warmUp.forEach((client) => client.destroy());
  await probe.measureWith(0);
  const clients = await openMany(t, probe.url, HELD);
  const before = await probe.measureWith(HELD);

  const started = performance.now();
  await holdUnfinished(clients);
  assertMemoryBound(t, before, await probe.measure(), clients);

  const endings = await withTimeout(
    Promise.all(clients.map((client) => client.ended)),
    'every unfinished message to be dropped',
    timeoutMs + 15_000,
  );
  for (const ending of endings) assert.deepEqual(ending, { code: 1008, reason: 'Message not finished in time' });
  // Timers do not fire early: nobody was closed before the timeout.
  assert.ok(performance.now() - started >= timeoutMs);
  await probe.measureWith(0);
});
