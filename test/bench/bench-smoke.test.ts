// Smoke test of the benchmark's machinery: the load generator drives a few
// handshakes through the raw forwarder, in separate processes, on port 0.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LoadGenProcess } from '../../bench/load-gen-client.js';
import type { HandshakeResult } from '../../bench/load-gen-messages.js';
import { buildForwarder, forwarderTarget, targetCpuNs, type TargetInstance } from '../../bench/targets.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function assertClean(result: HandshakeResult, expected: number): void {
  assert.deepEqual(result.failures, {});
  assert.equal(result.failed, 0);
  assert.equal(result.completed, expected);
  assert.equal(result.latenciesMs.length, expected);
}

describe('benchmark load generator against the raw forwarder', { timeout: 60_000 }, () => {
  let forwarder: TargetInstance;
  let loadGen: LoadGenProcess;

  before(async () => {
    forwarder = await forwarderTarget(ROOT, await buildForwarder(ROOT)).start();
    loadGen = await LoadGenProcess.start();
  });

  after(async () => {
    await loadGen?.stop();
    await forwarder?.stop();
  });

  it('completes v1 handshakes with candidates and checks every frame', async () => {
    const cpuBefore = targetCpuNs(forwarder);
    const result = await loadGen.run({
      kind: 'handshakes',
      hostUrl: forwarder.hostUrl,
      joinUrl: forwarder.joinUrl,
      dialect: 'v1',
      concurrency: 4,
      ratePerSec: null,
      durationMs: 30_000,
      maxHandshakes: 12,
      drainTimeoutMs: 10_000,
      verify: 'all',
    });
    assertClean(result, 12);
    // Offer, answer and 8 candidates each way per handshake.
    assert.equal(result.relayed, 12 * 18);
    assert.ok(targetCpuNs(forwarder) > cpuBefore, 'the server CPU counter moves');
  });

  it('completes v0 handshakes at a fixed rate', async () => {
    const result = await loadGen.run({
      kind: 'handshakes',
      hostUrl: forwarder.hostUrl,
      joinUrl: forwarder.joinUrl,
      dialect: 'v0',
      concurrency: 50,
      ratePerSec: 200,
      durationMs: 30_000,
      maxHandshakes: 10,
      drainTimeoutMs: 10_000,
      verify: 'all',
    });
    assertClean(result, 10);
    assert.equal(result.relayed, 10 * 2);
  });

  it('completes a fan-in of one host and several joiners', async () => {
    const result = await loadGen.run({
      kind: 'fanIn',
      hostUrl: forwarder.hostUrl,
      joinUrl: forwarder.joinUrl,
      joiners: 8,
      timeoutMs: 20_000,
      verify: 'all',
    });
    assertClean(result, 8);
    assert.equal(result.relayed, 8 * 18);
  });

  it('counts a refused join as a failed handshake, with its reason', async () => {
    // Hosts register on one forwarder, joiners ask another, which knows no key.
    const other = await forwarderTarget(ROOT, await buildForwarder(ROOT), 'other').start();
    try {
      const result = await loadGen.run({
        kind: 'handshakes',
        hostUrl: forwarder.hostUrl,
        joinUrl: other.joinUrl,
        dialect: 'v1',
        concurrency: 2,
        ratePerSec: null,
        durationMs: 30_000,
        maxHandshakes: 3,
        drainTimeoutMs: 10_000,
        verify: 'none',
      });
      assert.equal(result.completed, 0);
      assert.equal(result.failed, 3);
      assert.deepEqual(result.failures, { 'joiner closed 1008 The key does not exist before the handshake ended': 3 });
    } finally {
      await other.stop();
    }
  });

  it('holds idle hosts and closes them', async () => {
    const opened = await loadGen.run({
      kind: 'idleOpen',
      url: forwarder.hostUrl,
      count: 20,
      concurrency: 8,
      timeoutMs: 20_000,
    });
    assert.deepEqual({ open: opened.open, failed: opened.failed }, { open: 20, failed: 0 });
    const checked = await loadGen.run({ kind: 'idleCheck' });
    assert.equal(checked.open, 20);
    const closed = await loadGen.run({ kind: 'idleClose', timeoutMs: 10_000 });
    assert.equal(closed.failed, 0);
  });
});
