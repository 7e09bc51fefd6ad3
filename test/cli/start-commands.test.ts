// The ways a checkout starts the server: `node server.js` and `npm start`,
// each stopped by SIGTERM sent to the process that was started, as a
// process manager or a container runtime sends it.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { TestClient } from '../support/client.js';
import { isAlive, npmCommand, runCommand } from '../support/cli.js';

const LOCAL = ['--host', '127.0.0.1', '--port', '0'];
/** npm alone takes a second or two to start on a busy machine. */
const START_MS = 30_000;

/** Whether a connection to `url`'s port is refused. */
function refused(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

test('`node server.js` starts the server from the built checkout and stops on SIGTERM', async (t) => {
  const server = runCommand(t, process.execPath, ['server.js', ...LOCAL]);
  const url = await server.listening(START_MS);
  await server.stdout(/^sigver test page at http:\/\/127\.0\.0\.1:\d+\/$/);
  const client = await TestClient.connect(url);
  t.after(() => client.ws.terminate());
  server.child.kill('SIGTERM');
  assert.deepEqual(await client.waitClose(), { code: 1001, reason: 'Server shutting down' });
  assert.deepEqual(await server.exit(START_MS), { code: 0, signal: null });
});

test('SIGTERM to `npm start` stops the server: its port closes and no process is left', async (t) => {
  const [file, args] = npmCommand(['start', '--', ...LOCAL]);
  const started = runCommand(t, file, args);
  const url = await started.listening(START_MS);
  const tree = started.tree();
  assert.ok(tree.length > 0, 'npm started the server as a child process');
  const client = await TestClient.connect(url);
  t.after(() => client.ws.terminate());

  started.child.kill('SIGTERM');
  assert.deepEqual(await client.waitClose(), { code: 1001, reason: 'Server shutting down' });
  // `exited` waits for stdout and stderr to close, which every process of the tree holds open.
  await started.exit(START_MS);
  assert.deepEqual(
    tree.filter((pid) => isAlive(pid)),
    [],
    'no process of `npm start` is left',
  );
  assert.ok(await refused(url), 'the port is closed');
});
