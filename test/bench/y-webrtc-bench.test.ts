// Smoke test of the y-webrtc bench workload: a few exchanges and idle
// subscribers on each of its three servers (Sigver from dist/, y-webrtc's
// bin/server.js, the raw pub/sub forwarder), every figure present.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { renderYWebrtc, runYWebrtcWorkload, type YWebrtcOptions } from '../../bench/y-webrtc-workload.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('the y-webrtc workload measures Sigver, y-webrtc server and forwarder', { timeout: 60_000 }, async () => {
  const options: YWebrtcOptions = {
    rate: 50,
    rooms: 4,
    rounds: 1,
    burstMs: 300,
    warmupMs: 0,
    idle: 20,
    idleRounds: 1,
    settleMs: 0,
  };
  const result = await runYWebrtcWorkload(ROOT, options, () => {});
  assert.deepEqual(Object.fromEntries(result.failures), {});
  const cpu = result.rows.find((row) => row.metric.startsWith('server CPU'));
  for (const value of [cpu?.sigver, cpu?.native, cpu?.forwarder]) assert.ok(value !== undefined && value > 0);
  assert.match(renderYWebrtc(result, options), /sigver\/native/);
});
