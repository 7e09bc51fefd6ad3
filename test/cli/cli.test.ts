// The `sigver` command as a child process: start-up line, ports, bad input,
// help, version, and shutdown on SIGTERM and SIGINT.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { TestClient } from '../support/client.js';
import { ROOT, runCli } from '../support/cli.js';

const LOCAL = ['--host', '127.0.0.1', '--port', '0'];

test('prints "sigver listening on ws://HOST:PORT" with the real port for --port 0, then the test page, and nothing else on stdout', async (t) => {
  const cli = runCli(t, LOCAL);
  const url = await cli.listening();
  assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(url, 'ws://127.0.0.1:0');
  const page = (await cli.stdout(/^sigver test page at /)).slice('sigver test page at '.length);
  assert.equal(page, `http://127.0.0.1:${new URL(url).port}/`);
  const response = await fetch(page);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  const client = await TestClient.connect(url);
  client.send({ key: 'cli-key' });
  await client.close();
  await cli.stderr(/"event":"closed"/);
  cli.child.kill('SIGTERM');
  assert.equal((await cli.exit()).code, 0);
  assert.deepEqual(cli.stdoutLines, [`sigver listening on ${url}`, `sigver test page at ${page}`]);
});

test('takes the port and host from SIGVER_PORT and SIGVER_HOST, and a flag wins over its variable', async (t) => {
  const fromEnv = runCli(t, [], { SIGVER_PORT: '0', SIGVER_HOST: '127.0.0.1' });
  assert.match(await fromEnv.listening(), /^ws:\/\/127\.0\.0\.1:\d+$/);
  const flagWins = runCli(t, ['--port', '0'], { SIGVER_PORT: 'not-a-port', SIGVER_HOST: '127.0.0.1' });
  assert.match(await flagWins.listening(), /^ws:\/\/127\.0\.0\.1:\d+$/);
});

test('a port in use: one line on stderr and exit code 1', async (t) => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => blocker.close());
  const { port } = blocker.address() as AddressInfo;
  const cli = runCli(t, ['--host', '127.0.0.1', '--port', String(port)]);
  assert.equal((await cli.exit()).code, 1);
  assert.deepEqual(cli.stderrLines, [`sigver: port ${port} is already in use on 127.0.0.1`]);
  assert.deepEqual(cli.stdoutLines, []);
});

test('an unknown flag: one line on stderr and exit code 1', async (t) => {
  const cli = runCli(t, ['--no-such-flag']);
  assert.equal((await cli.exit()).code, 1);
  assert.equal(cli.stderrLines.length, 1);
  assert.match(cli.stderrLines[0]!, /^sigver: .*--no-such-flag.*\(see sigver --help\)$/);
});

test('a mistyped flag: one line naming the closest flag, and exit code 1', async (t) => {
  const cli = runCli(t, ['--prot', '8000']);
  assert.equal((await cli.exit()).code, 1);
  assert.deepEqual(cli.stderrLines, ['sigver: unknown option --prot: did you mean --port? (see sigver --help)']);
  assert.deepEqual(cli.stdoutLines, []);
});

test('a bad value: one line on stderr and exit code 1, no stack trace', async (t) => {
  const cli = runCli(t, ['--port', 'eighty']);
  assert.equal((await cli.exit()).code, 1);
  assert.deepEqual(cli.stderrLines, ['sigver: --port must be a whole number, got "eighty"']);
});

test('--help lists every flag with its environment variable, and exits 0', async (t) => {
  const cli = runCli(t, ['--help']);
  assert.equal((await cli.exit()).code, 0);
  const help = cli.stdoutLines.join('\n');
  for (const flag of [
    '--port',
    '--host',
    '--log-level',
    '--tls-cert',
    '--allow-origin',
    '--[no-]trust-proxy',
    '--auth-secret',
    '--turn-url',
    '--config',
    '--print-config',
    '--version',
  ]) {
    assert.ok(help.includes(flag), `--help mentions ${flag}`);
  }
  assert.ok(help.includes('SIGVER_MAX_CONNECTIONS_PER_ADDRESS'));
});

test('--version prints the package version and exits 0', async (t) => {
  const cli = runCli(t, ['--version']);
  assert.equal((await cli.exit()).code, 0);
  const { version } = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
  assert.deepEqual(cli.stdoutLines, [version]);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: every client gets 1001 "Server shutting down" and the process exits 0`, async (t) => {
    const cli = runCli(t, LOCAL);
    const url = await cli.listening();
    const v0 = await TestClient.connect(url);
    const v1 = await TestClient.connect(url, 'v1');
    t.after(() => {
      v0.ws.terminate();
      v1.ws.terminate();
    });
    v1.send({ key: null });
    await v1.next();
    cli.child.kill(signal);
    assert.deepEqual(await v0.waitClose(), { code: 1001, reason: 'Server shutting down' });
    assert.deepEqual(await v1.waitClose(), { code: 1001, reason: 'Server shutting down' });
    assert.deepEqual(await cli.exit(), { code: 0, signal: null });
  });
}
