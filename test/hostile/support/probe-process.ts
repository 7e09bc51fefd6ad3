// Starts the memory probe (./memory-probe.ts) in a child process for one test
// and stops it when the test ends.

import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../../support/waits.js';
import type { ProbeMessage } from './memory-probe.js';

export type Measure = Extract<ProbeMessage, { type: 'measure' }>;

/** What the issue allows an attacking connection beyond 4 times the bytes it sent. */
export const SLACK_BYTES = 16 * 1024;

/** Asserts that the server's RSS grew by at most 4 times what `clients` sent plus {@link SLACK_BYTES} each. */
export function assertMemoryBound(
  t: { diagnostic(message: string): void },
  before: Measure,
  after: Measure,
  clients: ReadonlyArray<{ readonly sent: number }>,
): void {
  const growth = after.rssBytes - before.rssBytes;
  const sent = clients.reduce((sum, client) => sum + client.sent, 0);
  const allowed = 4 * sent + SLACK_BYTES * clients.length;
  const kib = (bytes: number): string => (bytes / 1024).toFixed(0);
  t.diagnostic(
    `${clients.length} connections sent ${kib(sent)} KiB in all; server RSS grew ${kib(growth)} KiB ` +
      `(${(growth / clients.length / 1024).toFixed(1)} KiB each; V8 heap used ` +
      `${kib(after.usage.heapUsed - before.usage.heapUsed)} KiB), allowed ${kib(allowed)} KiB`,
  );
  assert.ok(growth <= allowed, `RSS grew ${growth} bytes, more than ${allowed}`);
}

export interface Probe {
  readonly url: string;
  readonly pid: number;
  /** Collects garbage in the child, then reads its RSS and CPU time. */
  measure(): Promise<Measure>;
  /** Measures until the server has `connections` open (it has seen every close), then returns that measure. */
  measureWith(connections: number): Promise<Measure>;
}

const WAIT_MS = 30_000;

export async function startProbe(
  t: TestContext,
  settings: Record<string, unknown> = {},
  { measuring = 'memory' }: { readonly measuring?: 'memory' | 'cpu' } = {},
): Promise<Probe> {
  // For memory, a young generation of 1 MiB: a larger one is touched a little
  // more in each round of allocations, which shows as RSS growth that is
  // nobody's. For CPU, Node's default: a small one collects more often.
  const youngGeneration = measuring === 'memory' ? ['--max-semi-space-size=1'] : [];
  const child = fork(fileURLToPath(new URL('./memory-probe.ts', import.meta.url)), [JSON.stringify(settings)], {
    execArgv: ['--expose-gc', ...youngGeneration, '--import', 'tsx'],
    env: { ...process.env, MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '0' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.connected) child.disconnect();
    await withTimeout(exited, 'the probe to exit', WAIT_MS).catch(() => child.kill('SIGKILL'));
  });
  const next = <T extends ProbeMessage['type']>(type: T): Promise<Extract<ProbeMessage, { type: T }>> =>
    withTimeout(
      new Promise((resolve) => {
        const listen = (message: ProbeMessage): void => {
          if (message.type !== type) return;
          child.off('message', listen);
          resolve(message as Extract<ProbeMessage, { type: T }>);
        };
        child.on('message', listen);
      }),
      `the probe's ${type}`,
      WAIT_MS,
    );
  const { url } = await next('listening');
  const measure = (): Promise<Measure> => {
    const reply = next('measure');
    child.send('measure');
    return reply;
  };
  return {
    url,
    pid: child.pid!,
    measure,
    async measureWith(connections) {
      const deadline = performance.now() + WAIT_MS;
      for (;;) {
        const measured = await measure();
        if (measured.connections === connections) return measured;
        if (performance.now() > deadline)
          throw new Error(`the server still has ${measured.connections} connections, not ${connections}`);
      }
    },
  };
}
