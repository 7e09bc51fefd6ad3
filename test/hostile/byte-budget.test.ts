// Issue #11 row 7: frames of 64 KiB that are cheap to send and costly to
// parse. A connection past its byte budget (--byte-rate, --byte-burst) is
// closed 1008 `Byte rate exceeded` in every dialect, as the message rate
// limit is answered, while a pair exchanging SDP of a normal size on the
// same server is not affected; and the CPU that the budget lets one
// connection cost, measured in a child process, is under 5 % of a core.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/options.js';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';
import { startServer, type TestServer } from '../support/server.js';
import { startProbe } from './support/probe-process.js';

const FRAME_BYTES = 64 * 1024;

/** A `ping` whose data is an object of thousands of members: about 64 KiB, costly to parse and to echo. */
function wideObjectPing(): string {
  const members: string[] = [];
  let length = '{"ping":{}}'.length;
  for (let i = 0; length + 10 < FRAME_BYTES; i += 1) {
    const member = `"m${i}":${i % 10}`;
    members.push(member);
    length += member.length + 1;
  }
  return `{"ping":{${members.join(',')}}}`;
}

/** A ping among thousands of top-level members that the server ignores. */
function ignoredMembersPing(): string {
  const members: string[] = [];
  let length = '{"ping":1}'.length;
  for (let i = 0; length + 10 < FRAME_BYTES; i += 1) {
    const member = `"x${i}":[]`;
    members.push(member);
    length += member.length + 1;
  }
  return `{${members.join(',')},"ping":1}`;
}

/** A y-webrtc ping padded to about 64 KiB. */
function paddedYWebrtcPing(): string {
  return JSON.stringify({ type: 'ping', pad: 'x'.repeat(FRAME_BYTES - 40) });
}

/** A pair of v1 peers exchanging SDP and candidates of a browser's size, all relayed. */
async function sdpExchange(server: TestServer, key: string): Promise<void> {
  const sdp = (kind: string): { type: string; sdp: string } => ({
    type: kind,
    sdp: Array.from({ length: 120 }, (_, i) => `a=${kind}-line-${i} ${'0123456789abcdef'.repeat(3)}`).join('\r\n'),
  });
  const host = await server.connect('v1');
  host.send({ key });
  await host.next();
  const joiner = await server.connect('v1');
  joiner.send({ joinkey: key });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 1 });
  const offer = sdp('offer');
  assert.ok(JSON.stringify(offer).length > 6_000);
  joiner.send({ offer });
  for (let i = 0; i < 20; i += 1)
    joiner.send({ candidate: { candidate: `candidate:${i} 1 udp 2122260223 192.0.2.1 ${50_000 + i} typ host` } });
  assert.deepEqual(await host.next(), { offer, id: 1 });
  for (let i = 0; i < 20; i += 1) assert.equal(((await host.next()) as { id: number }).id, 1);
  const answer = sdp('answer');
  host.send({ answer, id: 1 });
  assert.deepEqual(await joiner.next(), { answer });
  await joiner.close();
  await host.close();
}

/** A v0 joiner of a host that reads everything: its offers are relayed. */
async function v0Joiner(server: TestServer): Promise<TestClient> {
  const host = await server.connect('v0');
  host.send({ key: 'flooded' });
  host.ws.on('message', () => {});
  const joiner = await server.connect('v0');
  joiner.send({ joinkey: 'flooded' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  return joiner;
}

/** Attackers of each dialect, each with a costly frame that its dialect accepts. */
const ATTACKS = {
  // The example: parsed, and echoed in the pong.
  v1: { connect: (server: TestServer) => server.connect('v1'), frame: wideObjectPing() },
  // v0 has no ping: a joiner's offer, relayed to its host.
  v0: { connect: v0Joiner, frame: `{"offer":${wideObjectPing().slice('{"ping":'.length)}` },
  ywebrtc: { connect: (server: TestServer) => server.connect('v0'), frame: paddedYWebrtcPing() },
} as const;

for (const [dialect, { connect, frame }] of Object.entries(ATTACKS)) {
  test(`${dialect}: 64 KiB frames past the default byte burst are closed 1008 "Byte rate exceeded"; a normal pair is unaffected`, async (t) => {
    let logged: (close: { code: number; reason: string }) => void = () => {};
    const loggedClose = new Promise<{ code: number; reason: string }>((resolve) => (logged = resolve));
    const server = await startServer(t, {
      observer: { ended: (_conn, _dialect, _role, code, reason) => code === 1008 && logged({ code, reason }) },
    });
    const attacker = await connect(server);
    const frames = Math.ceil(DEFAULT_SETTINGS.byteBurst / frame.length) + 4;
    assert.ok(frames < DEFAULT_SETTINGS.rateBurst, 'the message rate limit is not what closes it');
    for (let i = 0; i < frames; i += 1) attacker.send(frame);
    const pair = sdpExchange(server, `calm-${dialect}`);
    assert.deepEqual(await attacker.waitClose(10_000), { code: 1008, reason: 'Byte rate exceeded' });
    await pair;
    // Logs and metrics see the server's close, though the socket is dropped without waiting for the client's.
    assert.deepEqual(await withTimeout(loggedClose, 'the close to be observed'), {
      code: 1008,
      reason: 'Byte rate exceeded',
    });
  });
}

test('at the default byte rate, one connection sending costly frames costs the server under 5 % of a core', async (t) => {
  const probe = await startProbe(t, {}, { measuring: 'cpu' });
  const rate = DEFAULT_SETTINGS.byteRate;
  const report: string[] = [];
  for (const [shape, frame] of [
    ['object of thousands of members in ping', wideObjectPing()],
    ['thousands of ignored members', ignoredMembersPing()],
  ] as const) {
    // Within a connection's burst every frame is parsed and answered. CPU
    // time, not wall time, so that other processes on the machine do not
    // count; after a first connection has warmed up the code.
    const count = Math.floor(DEFAULT_SETTINGS.byteBurst / frame.length) - 1;
    const exchange = async (): Promise<TestClient> => {
      const client = await TestClient.connect(probe.url, 'v1');
      t.after(() => client.ws.terminate());
      for (let i = 0; i < count; i += 1) client.send(frame);
      for (let i = 0; i < count; i += 1) await client.nextText(20_000);
      return client;
    };
    await (await exchange()).close();
    // The least of three rounds: on a shared machine, noise only adds.
    let msPerFrame = Infinity;
    for (let round = 0; round < 3; round += 1) {
      const before = await probe.measure();
      const client = await exchange();
      const after = await probe.measure();
      msPerFrame = Math.min(msPerFrame, (after.cpuMs - before.cpuMs) / count);
      await client.close();
    }
    const shareOfCore = (msPerFrame / 1_000) * (rate / frame.length);
    report.push(
      `${shape}: ${msPerFrame.toFixed(2)} ms CPU per ${(frame.length / 1024).toFixed(0)} KiB frame; ` +
        `at ${rate / 1024} KiB/s ${(shareOfCore * 100).toFixed(1)} % of a core`,
    );
    assert.ok(shareOfCore < 0.05, report.at(-1));
  }
  for (const line of report) t.diagnostic(line);
});
