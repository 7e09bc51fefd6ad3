// Issue #11 row 4: a client sends the header of a 64 KiB frame, then its
// payload one byte per TCP segment. The server, in a child process, must
// hold at most 4 times the bytes sent plus 16 KiB per connection; a frame
// trickled this way is closed 1008 `Message sent in too small pieces` (or,
// if the server happened to read the bytes in larger pieces, `Message not
// finished in time`), and a frame left unfinished is dropped after
// --message-timeout-ms (docs/PROTOCOL.md, Limits).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withTimeout } from '../support/waits.js';
import { openMany, turn, type RawWebSocket } from './support/raw-websocket.js';
import { assertMemoryBound, startProbe } from './support/probe-process.js';

const CONNECTIONS = 200;
/** A masked text frame header announcing 65 536 payload bytes. */
const HEADER = Buffer.from([0x81, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4]);
const ONE_BYTE = Buffer.from('x');

/** Writes one byte to each open client, `bytes` times, a turn of the event loop between rounds. */
async function trickle(clients: readonly RawWebSocket[], bytes: number): Promise<void> {
  for (let i = 0; i < bytes; i += 1) {
    for (const client of clients) client.write(ONE_BYTE);
    await turn();
  }
}

/** Resolves when every client's socket has handed what it was given to the kernel. */
async function flushed(clients: readonly RawWebSocket[]): Promise<void> {
  await Promise.all(
    clients.map(
      (client) => new Promise<void>((resolve) => (client.open ? client.socket.write('', () => resolve()) : resolve())),
    ),
  );
}

test('a 64 KiB frame trickled a byte per segment: memory stays within 4x the bytes sent, and the sender is closed 1008', async (t) => {
  const probe = await startProbe(t, { messageTimeoutMs: 5_000 });
  // A first round, so that the baseline includes what the server allocates once (compiled code, heap spaces).
  const attack = async (clients: readonly RawWebSocket[]): Promise<void> => {
    for (const client of clients) client.write(HEADER);
    await trickle(clients, 2_000);
    await flushed(clients);
  };
  const warmUp = await openMany(t, probe.url, CONNECTIONS);
  await attack(warmUp);
  warmUp.forEach((client) => client.destroy());
  await probe.measureWith(0);
  const clients = await openMany(t, probe.url, CONNECTIONS);
  const before = await probe.measureWith(CONNECTIONS);

  await attack(clients);
  // Two measures: the first lets the server read whatever was still in its sockets.
  await probe.measure();
  assertMemoryBound(t, before, await probe.measure(), clients);

  const endings = await withTimeout(
    Promise.all(clients.map((client) => client.ended)),
    'every attacker to be closed',
    20_000,
  );
  const pieces = endings.filter(
    (ending) => ending.code === 1008 && ending.reason === 'Message sent in too small pieces',
  );
  const late = endings.filter((ending) => ending.code === 1008 && ending.reason === 'Message not finished in time');
  t.diagnostic(`${pieces.length} closed for too small pieces, ${late.length} for taking too long`);
  assert.equal(
    pieces.length + late.length,
    CONNECTIONS,
    JSON.stringify(endings.find((e) => !pieces.includes(e) && !late.includes(e))),
  );
  assert.ok(pieces.length > 0, 'the server read single bytes on some connections');
  const after = await probe.measureWith(0);
  t.diagnostic(
    `once all are closed: RSS ${((after.rssBytes - before.rssBytes) / 1024).toFixed(0)} KiB from the baseline`,
  );
});

test('a frame left unfinished within the pieces rule is dropped after --message-timeout-ms, closed 1008', async (t) => {
  const timeoutMs = 3_000;
  const probe = await startProbe(t, { messageTimeoutMs: timeoutMs });
  const clients = await openMany(t, probe.url, CONNECTIONS);
  await probe.measureWith(CONNECTIONS);
  const started = performance.now();
  for (const client of clients) client.write(HEADER);
  // Fewer bytes than the rule's free pieces: however they are read, the frame is within it.
  await trickle(clients, 20);
  const endings = await withTimeout(
    Promise.all(clients.map((client) => client.ended)),
    'every unfinished frame to be dropped',
    timeoutMs + 15_000,
  );
  for (const ending of endings) assert.deepEqual(ending, { code: 1008, reason: 'Message not finished in time' });
  assert.ok(performance.now() - started >= timeoutMs);
  await probe.measureWith(0);
});
