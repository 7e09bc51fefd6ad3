// Smoke test of the PeerJS bench workload: a few handshakes and idle
// registered peers on each of its three servers (Sigver from dist/, PeerJS's
// own server `peer`, the raw forwarder by id), every figure present.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { renderPeerJs, runPeerJsWorkload, type PeerJsOptions } from '../../bench/peerjs-workload.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('the PeerJS workload measures Sigver, peer and the forwarder', { timeout: 60_000 }, async () => {
  const options: PeerJsOptions = {
    rate: 50,
    rooms: 4,
    rounds: 1,
    burstMs: 300,
    warmupMs: 0,
    idle: 20,
    idleRounds: 1,
    settleMs: 0,
  };
  const result = await runPeerJsWorkload(ROOT, options, () => {});
  assert.deepEqual(Object.fromEntries(result.failures), {});
  const cpu = result.rows.find((row) => row.metric.startsWith('server CPU'));
  for (const value of [cpu?.sigver, cpu?.native, cpu?.forwarder]) assert.ok(value !== undefined && value > 0);
  assert.match(renderPeerJs(result, options), /sigver\/native/);
});
