// Runs a browser test file inside a private network namespace of its own:
// the one way the tests give Chromium a network. WebRTC must stay on this
// machine, and the browser must reach werift peers and servers of the test
// process, so the whole test file runs in a network namespace made for it:
// loopback plus one veth pair with a documentation-range address (TEST-NET-2)
// and a default route that leads nowhere. Chromium gathers a host candidate
// on that address; nothing can leave the namespace, not even Chromium's own
// background lookups; the servers, the pages and the browsers share it, and
// its ports are its own (a server can take a documented port such as 8000).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const INSIDE_ENV = 'SIGVER_E2E_PRIVATE_NETWORK';
/** The namespace's one non-loopback address; ICE uses it. */
export const PRIVATE_ADDRESS = '198.51.100.1';

const SETUP = [
  'ip link set lo up',
  'ip link add sigver0 type veth peer name sigver1',
  `ip addr add ${PRIVATE_ADDRESS}/24 dev sigver0`,
  'ip link set sigver0 up',
  'ip link set sigver1 up',
  'ip route add default via 198.51.100.254 dev sigver0',
].join(' && ');

/**
 * True inside the namespace (or when a developer sets the variable to run
 * the browser tests directly, e.g. on a laptop without root).
 */
export function insidePrivateNetwork(): boolean {
  return process.env[INSIDE_ENV] === '1';
}

let namespaceCheck: { problem: string | undefined } | undefined;

/**
 * Why this machine cannot give the browser tests a network namespace of
 * their own, in one line, or `undefined` when it can (it tries once).
 */
export function namespaceProblem(): string | undefined {
  namespaceCheck ??= { problem: tryUnshare() };
  return namespaceCheck.problem;
}

function tryUnshare(): string | undefined {
  const result = spawnSync('unshare', ['--net', 'true'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status === 0) return undefined;
  const cause = result.error?.message ?? result.stderr.trim().split('\n')[0];
  return (
    'the browser tests need root (as on CI): they run Chromium in a network namespace of its own ' +
    `so that WebRTC traffic never leaves this machine, and creating one failed (${cause})`
  );
}

/** Runs `file`'s tests whose names match `namePattern` in a new private network namespace. */
export function runInPrivateNetwork(
  file: string,
  namePattern: string,
  timeoutMs: number,
): Promise<{ status: number | null; output: string }> {
  const problem = namespaceProblem();
  if (problem !== undefined) return Promise.reject(new Error(problem));
  const command = `${SETUP} && exec "${process.execPath}" --import tsx --test --test-reporter=spec --test-name-pattern="$SIGVER_E2E_PATTERN" "${file}"`;
  // The inner runner must not think it is a child of this one.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--net', 'sh', '-c', command], {
      env: { ...env, [INSIDE_ENV]: '1', SIGVER_E2E_PATTERN: namePattern },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/** A regular expression matching exactly `name`. */
export function exactName(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

/**
 * The tests of a file that need the private network: inside it, `define`
 * declares them; outside, one test runs the file there and passes when every
 * test inside it passed.
 */
export function testsInPrivateNetwork(fileUrl: string, title: string, timeoutMs: number, define: () => void): void {
  if (insidePrivateNetwork()) return define();
  test(`${title} (in a private network namespace)`, { timeout: timeoutMs + 10_000 }, async () => {
    const { status, output } = await runInPrivateNetwork(fileURLToPath(fileUrl), '.*', timeoutMs);
    assert.equal(status, 0, output);
    assert.match(output, /pass [1-9]/, `the tests ran:\n${output}`);
    assert.match(output, /fail 0\b/, output);
  });
}
