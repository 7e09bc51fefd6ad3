// docs/CLUSTER.md's nginx configuration, run by Debian's nginx in front of
// two Sigver processes: a handshake completes through it, with the host and
// the joiner on different processes.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { TestClient } from '../support/client.js';
import { withTimeout } from '../support/waits.js';
import { freePort, RedisServer } from './redis-server.js';
import { spawnSigver } from '../support/sigver-process.js';

const NGINX = '/usr/sbin/nginx';

/** The nginx block of docs/CLUSTER.md, listening on `port` in front of `upstreams`. */
async function documentedConfig(port: number, upstreams: readonly number[]): Promise<string> {
  const doc = await readFile(new URL('../../docs/CLUSTER.md', import.meta.url), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block !== undefined, 'docs/CLUSTER.md has an nginx block');
  const servers = upstreams.map((p) => `    server 127.0.0.1:${p};`).join('\n');
  const config = block
    .replace(/(?:^ {4}server 127\.0\.0\.1:\d+;\n)+/m, `${servers}\n`)
    .replace(/listen 80;/, `listen 127.0.0.1:${port};`);
  assert.ok(config.includes(servers) && config.includes(`listen 127.0.0.1:${port};`), 'ports substituted');
  return config;
}

/** Starts nginx with its own prefix and the documented site; resolves once its worker runs. */
async function startNginx(t: TestContext, site: string): Promise<void> {
  const prefix = await mkdtemp(join(tmpdir(), 'sigver-nginx-'));
  // Workers run as an unprivileged user when the master is root: let them in.
  await chmod(prefix, 0o755);
  const conf = join(prefix, 'nginx.conf');
  const temp = (name: string): string => `${name}_temp_path ${join(prefix, name)};`;
  await writeFile(
    conf,
    [
      'worker_processes 1;',
      `pid ${join(prefix, 'nginx.pid')};`,
      'error_log stderr notice;',
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${temp(name)}`),
      site,
      '}',
      '',
    ].join('\n'),
  );
  const nginx = spawn(NGINX, ['-p', prefix, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = once(nginx, 'exit');
  const log: string[] = [];
  t.after(async () => {
    if (nginx.exitCode === null && nginx.signalCode === null) {
      nginx.kill('SIGTERM');
      await exited;
    }
    await rm(prefix, { recursive: true, force: true });
  });
  const running = new Promise<void>((resolve) => {
    createInterface({ input: nginx.stderr! }).on('line', (line) => {
      log.push(line);
      // The master binds its sockets before it starts workers.
      if (line.includes('start worker process')) resolve();
    });
  });
  const died = exited.then(() => {
    throw new Error(`nginx exited: ${log.join(' | ')}`);
  });
  died.catch(() => {});
  await withTimeout(Promise.race([running, died]), 'nginx to start', 10_000);
}

function health(url: string): Promise<{ status: number; body: { connections: number } }> {
  return new Promise((resolve, reject) => {
    get(url.replace('ws://', 'http://') + '/health', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(body) }));
    }).on('error', reject);
  });
}

test('nginx with the documented configuration in front of two processes: a handshake completes through it', async (t) => {
  const redis = await RedisServer.start(t);
  const [a, b] = await Promise.all([spawnSigver(t, ['--redis', redis.url]), spawnSigver(t, ['--redis', redis.url])]);
  const port = await freePort();
  await startNginx(t, await documentedConfig(port, [Number(new URL(a.url).port), Number(new URL(b.url).port)]));
  const front = `ws://127.0.0.1:${port}`;
  assert.equal((await health(front)).status, 200);

  const connect = async (dialect: 'v0' | 'v1'): Promise<TestClient> => {
    const client = await TestClient.connect(`${front}/signal`, dialect);
    t.after(() => client.ws.terminate());
    return client;
  };
  const host = await connect('v1');
  assert.equal(host.ws.protocol, 'sigver.v1', 'the subprotocol passes through');
  host.send({ key: 'through-nginx' });
  const { registered } = (await host.next()) as { registered: string };
  assert.equal(registered, 'through-nginx');
  const joiner = await connect('v0');
  joiner.send({ joinkey: 'through-nginx' });
  assert.deepEqual(await joiner.next(), { reachable: 'true' });
  assert.deepEqual(await host.next(), { join: 1 });
  const [onA, onB] = await Promise.all([health(a.url), health(b.url)]);
  assert.deepEqual([onA.body.connections, onB.body.connections], [1, 1], 'one peer on each process');

  joiner.send({ offer: { type: 'offer', sdp: 'v=0\r\n' } });
  assert.deepEqual(await host.next(), { offer: { type: 'offer', sdp: 'v=0\r\n' }, id: 1 });
  host.send({ answer: { type: 'answer', sdp: 'v=0\r\n' } });
  assert.deepEqual(await joiner.next(), { answer: { type: 'answer', sdp: 'v=0\r\n' } });
  // A watcher straight on the joiner's process, told after the joiner when the host leaves.
  const watcher = await TestClient.connect(b.url, 'v1');
  t.after(() => watcher.ws.terminate());
  watcher.send({ joinkey: 'through-nginx' });
  assert.deepEqual(await watcher.next(), { reachable: 'true' });
  await host.close();
  assert.deepEqual(await watcher.next(), { leave: 0 });
  // Answered, the v0 joiner stays; its next offer finds nobody.
  joiner.send({ offer: 'again' });
  assert.deepEqual(await joiner.waitClose(), { code: 1008, reason: 'The peer is no longer available' });
});
