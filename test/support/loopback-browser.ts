// Headless Chromium in a network namespace of its own that has nothing but
// a loopback interface. WebRTC between its pages can then only use
// 127.0.0.1 (this machine must send traffic to loopback addresses only, and
// Chromium would otherwise pair every interface it finds); servers of the
// test process are reached through forwarders at the same address and port.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { namespaceProblem } from './private-network.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js';
import { withTimeout } from './waits.js';

const LAUNCH_ARGS = [
  ...CHROMIUM_ARGS,
  // Chromium leaves the loopback interface out of WebRTC unless told otherwise.
  '--allow-loopback-in-peer-connection',
];

const NAMESPACE_PREFIX = 'sigver-test-';

/**
 * Forwards 127.0.0.1:PORT inside the namespace to a Unix socket (Unix
 * sockets live in the file system, which the namespaces share). It exits
 * when its standard input closes, so it never outlives the test process.
 */
const FORWARDER = `
const net = require('node:net');
const [port, path] = process.argv.slice(1);
net.createServer((socket) => {
  const upstream = net.connect(path);
  socket.pipe(upstream).pipe(socket);
  socket.on('error', () => upstream.destroy());
  upstream.on('error', () => socket.destroy());
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\\n'));
process.stdin.on('end', () => process.exit(0)).resume();
`;

/** A browser confined to loopback; see the module header. */
export interface LoopbackBrowser {
  readonly browser: Browser;
  /**
   * Makes `127.0.0.1:port` of this process reachable from the browser's
   * pages at the same address, or at `127.0.0.1:pagePort` when given (a
   * documented address such as `localhost:8000`, whatever port the server got).
   */
  expose(port: number, pagePort?: number): Promise<void>;
  /** Closes the browser and the forwarders, and deletes the namespace. */
  close(): Promise<void>;
}

/** Launches Chromium in a new network namespace (needs root and iproute2's `ip netns`, as on CI). */
export async function launchLoopbackBrowser(): Promise<LoopbackBrowser> {
  const problem = namespaceProblem();
  if (problem !== undefined) throw new Error(problem);
  removeStaleNamespaces();
  const namespace = `${NAMESPACE_PREFIX}${process.pid}-${Date.now().toString(36)}`;
  try {
    execFileSync('ip', ['netns', 'add', namespace], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(
      'Browser tests run Chromium in a network namespace of its own (`ip netns`, as root) so that WebRTC stays on loopback; ' +
        `creating one failed: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'sigver-browser-'));
  const bridges: Server[] = [];
  const forwarders: ChildProcess[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const forwarder of forwarders) {
      if (forwarder.exitCode === null && forwarder.signalCode === null) {
        const exited = once(forwarder, 'exit');
        forwarder.kill();
        await exited;
      }
    }
    await Promise.all(bridges.map((bridge) => new Promise((resolve) => bridge.close(resolve))));
    execFileSync('ip', ['netns', 'del', namespace]);
    rmSync(dir, { recursive: true, force: true });
  };
  let browser: Browser;
  try {
    execFileSync('ip', ['netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up']);
    const wrapper = join(dir, 'chromium');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec '${namespace}' '${CHROMIUM_PATH}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await chromium.launch({ executablePath: wrapper, args: LAUNCH_ARGS });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return {
    browser,
    async expose(port, pagePort = port) {
      const path = join(dir, `${pagePort}.sock`);
      const bridge = createServer((socket: Socket) => {
        const upstream = createConnection(port, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      bridges.push(bridge);
      bridge.listen(path);
      await withTimeout(once(bridge, 'listening'), 'the bridge to listen');
      const forwarder = spawn(
        'ip',
        ['netns', 'exec', namespace, process.execPath, '-e', FORWARDER, String(pagePort), path],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      forwarders.push(forwarder);
      await withTimeout(once(forwarder.stdout!, 'data'), 'the forwarder to listen');
    },
    async close() {
      await browser.close();
      await cleanUp();
    },
  };
}

/** Deletes namespaces left by test processes that died before cleaning up. */
function removeStaleNamespaces(): void {
  let list: string;
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return;
  }
  for (const match of list.matchAll(new RegExp(`^${NAMESPACE_PREFIX}(\\d+)-\\S+`, 'gm'))) {
    const pid = Number(match[1]);
    if (pid !== process.pid && !alive(pid)) {
      try {
        execFileSync('ip', ['netns', 'del', match[0]], { stdio: 'ignore' });
      } catch {
        // Another test process got there first.
      }
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}
