// The install story of the README, as a newcomer follows it: `npm pack` in
// the checkout, then the tarball installed into an empty folder and
// globally (under a prefix of the test's own), the `sigver` command run from
// there, and the library and its SDK imported from there.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TestClient } from '../support/client.js';
import { npmCommand, ROOT, runCommand } from '../support/cli.js';

const run = promisify(execFile);
/** npm on a busy machine, with every dependency from the cache `npm ci` filled. */
const NPM_MS = 240_000;
const START_MS = 30_000;

async function npm(args: readonly string[], cwd: string): Promise<string> {
  const [file, fullArgs] = npmCommand([...args, '--no-audit', '--no-fund', '--prefer-offline']);
  const { stdout } = await run(file, fullArgs, { cwd, timeout: NPM_MS, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

describe('installed from `npm pack`, outside the checkout', { timeout: 2 * NPM_MS }, () => {
  let dir = '';
  let tarball = '';
  let app = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigver-install-'));
    // --ignore-scripts: pack the dist/ this run tests rather than rebuild it under the other tests' feet.
    const packed = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT)) as {
      filename: string;
    }[];
    tarball = join(dir, packed[0]!.filename);
    app = join(dir, 'app');
    await run('mkdir', [app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await npm(['install', tarball], app);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the tarball is named as the README says and ships the built code, not the sources or tests', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(tarball, join(dir, `sigver-${version}.tgz`));
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n');
    assert.ok(files.includes('package/dist/cli/main.js'));
    assert.ok(files.includes('package/dist/public/sigver-client.js'));
    assert.ok(files.includes('package/demo/index.html'));
    assert.deepEqual(
      files.filter((file) => /^package\/(src|test|bench)\//.test(file)),
      [],
    );
  });

  it('runs the `sigver` command of an app: ready lines, test page, SDK bundle, SIGTERM', async (t) => {
    const sigver = runCommand(t, join(app, 'node_modules/.bin/sigver'), ['--host', '127.0.0.1', '--port', '0'], {
      cwd: app,
    });
    const url = await sigver.listening(START_MS);
    const page = (await sigver.stdout(/^sigver test page at /)).slice('sigver test page at '.length);
    assert.equal((await fetch(page)).status, 200);
    assert.equal((await fetch(new URL('/sigver-client.js', page))).status, 200);
    const client = await TestClient.connect(url);
    t.after(() => client.ws.terminate());
    sigver.child.kill('SIGTERM');
    assert.deepEqual(await client.waitClose(), { code: 1001, reason: 'Server shutting down' });
    assert.deepEqual(await sigver.exit(START_MS), { code: 0, signal: null });
  });

  it("imports 'sigver', 'sigver/client' and 'sigver/redis' from an app", async () => {
    const script = `
      import { createSigverServer } from 'sigver';
      import { connectPeer, hostPeers, SigverClient } from 'sigver/client';
      import { RedisBackplane } from 'sigver/redis';
      const server = createSigverServer({ host: '127.0.0.1', port: 0 });
      const { url } = await server.listen();
      await server.close();
      console.log([url.startsWith('ws://127.0.0.1:'), typeof connectPeer, typeof hostPeers, typeof SigverClient, typeof RedisBackplane].join(' '));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      timeout: START_MS,
    });
    assert.equal(stdout.trim(), 'true function function function function');
  });

  it('installs globally (`npm install -g`) as the `sigver` command', async () => {
    const prefix = join(dir, 'global');
    await npm(['install', '--global', '--prefix', prefix, tarball], dir);
    const { stdout } = await run(join(prefix, 'bin/sigver'), ['--version'], { timeout: START_MS });
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(stdout.trim(), version);
  });
});
