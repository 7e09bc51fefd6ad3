// The Node quick start of the README runs as written: its host and its
// joiner, as two processes, against a real server.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { docExample, pointImports } from '../support/doc-examples.js';
import { startServer } from '../support/server.js';
import { WAIT_MS, withTimeout } from '../support/waits.js';

const TARGETS = {
  'sigver/client': new URL('../../src/client/index.ts', import.meta.url).href,
  // werift confined to loopback, as every test here must be.
  werift: new URL('../support/loopback-werift.ts', import.meta.url).href,
  ws: import.meta.resolve('ws'),
};

function runExample(
  file: string,
  url: string,
): { child: ChildProcess; lines: AsyncIterator<string>; stderr: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, SIGVER_URL: url, NODE_TEST_CONTEXT: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines, stderr };
}

async function nextLine(run: ReturnType<typeof runExample>, what: string): Promise<string> {
  const next = await withTimeout(run.lines.next(), what);
  if (next.done === true) assert.fail(`${what}: the example ended early\n${run.stderr.join('')}`);
  return next.value;
}

describe('the Node quick start of the README', () => {
  it('hosts an echo room that the joiner example connects to, as written', async (t) => {
    const { url } = await startServer(t);
    const dir = await mkdtemp(join(tmpdir(), 'sigver-docs-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const hostFile = join(dir, 'host.mjs');
    const joinerFile = join(dir, 'joiner.mjs');
    await writeFile(hostFile, pointImports(docExample('node-host'), TARGETS));
    await writeFile(joinerFile, pointImports(docExample('node-joiner'), TARGETS));

    const host = runExample(hostFile, url);
    t.after(async () => {
      // The echo host serves until stopped, as a server does.
      if (host.child.exitCode === null) {
        const exited = once(host.child, 'exit');
        host.child.kill('SIGTERM');
        await exited;
      }
    });
    assert.equal(await nextLine(host, 'the host to register'), 'hosting echo-room');

    const joiner = runExample(joinerFile, url);
    assert.equal(await nextLine(joiner, 'the echo'), 'echo: hello');
    const [code] = (await withTimeout(once(joiner.child, 'exit'), 'the joiner to exit', WAIT_MS)) as [number | null];
    assert.equal(code, 0, joiner.stderr.join(''));
  });
});
