// A Sigver process that runs out of file descriptors (a low `ulimit -n`)
// refuses new connections meanwhile, lives on, and accepts again once some
// connections close; an accept error that does reach the server is logged.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';
import { CLI_WAIT_MS, ROOT } from '../support/cli.js';
import { startServer } from '../support/server.js';
import { createLogger } from '../../src/ops/logger.js';

const FILE_LIMIT = 64;

test('out of file descriptors, the server refuses connections, lives, and accepts again once some close', async (t) => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGVER_')));
  const command = `ulimit -n ${FILE_LIMIT} && exec "$0" --import tsx src/cli/main.ts --port 0 --host 127.0.0.1 --log-level warn`;
  const child = spawn('bash', ['-c', command, process.execPath], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const url = await withTimeout(
    new Promise<string>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /^sigver listening on (ws:\/\/\S+)$/.exec(line);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
    }),
    'sigver listening',
    CLI_WAIT_MS,
  );

  const clients: TestClient[] = [];
  t.after(() => clients.forEach((client) => client.ws.terminate()));
  let refused: unknown;
  for (let opened = 0; opened <= FILE_LIMIT; opened += 1) {
    try {
      clients.push(await TestClient.connect(url));
    } catch (error) {
      refused = error;
      break;
    }
  }
  assert.ok(refused !== undefined, `${clients.length} connections, none refused`);
  assert.ok(clients.length > 4, `only ${clients.length} connections before the first refusal`);

  // A second refusal, while the first is being logged: the process must survive both.
  await assert.rejects(TestClient.connect(url));
  assert.equal(child.exitCode, null, `sigver exited: ${stderr.join(' | ')}`);
  assert.equal(child.signalCode, null);

  // Those still open are still served.
  const host = clients[0]!;
  const joiner = clients[1]!;
  host.send({ key: 'held' });
  joiner.send({ joinkey: 'held' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });

  for (const client of clients.splice(2, 4)) await client.close();
  const late = await TestClient.connect(url);
  clients.push(late);
  late.send({ joinkey: 'held' });
  assert.deepEqual(await late.next(), { reachable: 'true' });
  assert.equal(child.exitCode, null, `sigver exited: ${stderr.join(' | ')}`);
});

// libuv keeps a spare descriptor to accept and close a connection it has no
// room for, so the refusals above reach Node as resets, not errors. When that
// spare is gone too (ENFILE: the whole system is out), the accept error is an
// 'error' event of the listening server, which ended the process.
test('an accept error of the listening server is logged, not fatal', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const server = await startServer(t, { logger: createLogger({ level: 'warn', stream }) });
  for (const code of ['EMFILE', 'ENFILE']) {
    server.server.httpServer.emit('error', Object.assign(new Error(`accept ${code}`), { code, syscall: 'accept' }));
  }
  const logged = lines.map((line) => JSON.parse(line) as { event?: string; code?: string });
  assert.deepEqual(
    logged.map((line) => [line.event, line.code]),
    [['accept-failed', 'EMFILE']],
    'logged once a second at most',
  );
  const host = await server.connect('v1');
  host.send({ key: 'after-accept-errors' });
  assert.equal(((await host.next()) as { registered?: unknown }).registered, 'after-accept-errors');
});
