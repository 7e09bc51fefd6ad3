// docs/EMBEDDING.md's examples run as written with real Express, Fastify and
// Hono apps, and node:http: the app keeps its own routes, Sigver takes WebSocket upgrades on
// its path, and the mounted handler serves /health, /metrics, /ice-servers
// and /sigver-client.js.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it, type TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { docExample, pointImports } from '../support/doc-examples.js';
import { WAIT_MS, withTimeout } from '../support/waits.js';

const DOC = 'docs/EMBEDDING.md';

const TARGETS = {
  sigver: new URL('../../src/index.ts', import.meta.url).href,
  express: import.meta.resolve('express'),
  fastify: import.meta.resolve('fastify'),
  hono: import.meta.resolve('hono'),
  '@hono/node-server': import.meta.resolve('@hono/node-server'),
  '@hono/node-server/utils/response': import.meta.resolve('@hono/node-server/utils/response'),
};

/** Runs the example in a child process on a free port; resolves with the address it prints. */
async function runExample(t: TestContext, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sigver-embed-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, `${name}.mjs`);
  await writeFile(file, pointImports(docExample(name, DOC), TARGETS));
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, PORT: '0', NODE_TEST_CONTEXT: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => stop(child));
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await withTimeout(lines.next(), `the ${name} app to listen`);
  const url = first.done === true ? undefined : /^listening on (http:\/\/\S+)$/.exec(first.value)?.[1];
  if (url === undefined) assert.fail(`the ${name} example printed no address\n${stderr.join('')}`);
  return url;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Registers `key` as a v1 host over a WebSocket at `url`; resolves with the open socket. */
async function hostKey(t: TestContext, url: string, key: string): Promise<void> {
  const ws = new WebSocket(url, 'sigver.v1');
  t.after(async () => {
    if (ws.readyState === WebSocket.CLOSED) return;
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });
  await withTimeout(once(ws, 'open'), 'the WebSocket to open');
  const reply = withTimeout(once(ws, 'message'), 'the registration');
  ws.send(JSON.stringify({ key }));
  const [data] = (await reply) as [Buffer];
  assert.equal((JSON.parse(data.toString()) as { registered?: string }).registered, key);
}

for (const framework of ['express', 'fastify', 'hono', 'node-http'] as const) {
  describe(`Sigver attached to the ${framework} app of docs/EMBEDDING.md`, () => {
    it('keeps the app its routes and serves Sigver signaling and HTTP routes on the same port', async (t) => {
      const origin = await runExample(t, framework);
      const get = (path: string): Promise<Response> =>
        withTimeout(fetch(new URL(path, origin)), `GET ${path}`, WAIT_MS);

      const home = await get('/');
      assert.equal(await home.text(), 'my app');
      // Other paths are the app's: its 404, or (the node:http app) its one page.
      const other = await get('/no-such-page');
      if (framework === 'node-http') assert.equal(await other.text(), 'my app');
      else assert.equal(other.status, 404);

      await hostKey(t, new URL('/signal', origin.replace(/^http/, 'ws')).href, `${framework}-room`);
      const health = await get('/health');
      assert.equal(health.headers.get('content-type'), 'application/json');
      assert.deepEqual(
        { ...((await health.json()) as Record<string, unknown>), uptimeSeconds: 0 },
        { status: 'ok', uptimeSeconds: 0, connections: 1, keys: 1 },
      );
      assert.match(await (await get('/metrics')).text(), /^sigver_keys 1$/m);
      assert.deepEqual(await (await get('/ice-servers')).json(), { iceServers: [] });
      const sdk = await get('/sigver-client.js');
      assert.equal(sdk.status, 200);
      assert.equal(sdk.headers.get('access-control-allow-origin'), '*');
      assert.match(await sdk.text(), /connectPeer/);
    });
  });
}
