// The real, unmodified y-webrtc and yjs in Chromium, signaling through Sigver
// and, scenario by scenario, through y-webrtc's own server (bin/server.js):
// documents converge over WebRTC (each page in a browser context of its own,
// so never over BroadcastChannel), rooms stay apart, `password` works, and
// two pages signal through two Sigver processes over Redis. Sigver runs with
// an access token (in the signaling URL's query) and --allow-origin.
//
// Each test runs in a private network namespace (support/private-network.ts).

import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { mintAccessToken } from '../../src/ops/access-token.js';
import { createSigverServer } from '../../src/server.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';
import { RedisServer, type Cleanup } from '../cluster/redis-server.js';
import { spawnSigver } from '../support/sigver-process.js';
import { insidePrivateNetwork, runInPrivateNetwork } from '../support/private-network.js';
import { WAIT_MS } from '../support/waits.js';
import { buildYjsBundle, DocPage, startNativeServer, startYjsPageServer } from '../support/y-webrtc-stage.js';

const AUTH_SECRET = 'y-webrtc test secret, at least 32 bytes long';

interface Stage {
  readonly browser: Browser;
  readonly origin: string;
  /** Signaling URLs of one Sigver process (token in the query), without and with a path. */
  readonly sigver: readonly [string, string];
  /** y-webrtc's own server. */
  readonly native: string;
}

type Target = 'sigver' | 'native';

interface Scenario {
  readonly name: string;
  run(t: TestContext, stage: Stage): Promise<void>;
}

/** Two signaling URLs for two pages: Sigver's with and without a path, or the native server's twice. */
function urls(stage: Stage, target: Target): readonly [string, string] {
  return target === 'sigver' ? stage.sigver : [stage.native, stage.native];
}

function open(t: Cleanup, stage: Stage, url: string, room: string, password?: string): Promise<DocPage> {
  return DocPage.open(t, stage.browser, stage.origin, url, room, password);
}

/** Every page inserts its own word; each ends up holding all of them, the same text. */
async function converge(pages: readonly DocPage[], tag: string): Promise<void> {
  const words = pages.map((_, i) => `<${tag}-${i}>`);
  await Promise.all(pages.map((page, i) => page.insert(words[i]!)));
  await Promise.all(pages.map((page) => page.holds(words)));
  const values = await Promise.all(pages.map((page) => page.value()));
  assert.ok(
    values.every((value) => value === values[0]),
    `one text everywhere: ${values.join(' | ')}`,
  );
}

/** Each page is linked to `n` others over WebRTC, and to none over BroadcastChannel. */
async function overWebrtc(pages: readonly DocPage[], n: number): Promise<void> {
  await Promise.all(pages.map((page) => page.webrtcPeers(n)));
  for (const page of pages) assert.equal(await page.bcPeers(), 0, 'no peer over BroadcastChannel');
}

function mesh(target: Target): Scenario {
  return {
    name: `${target}: two then three documents converge over WebRTC, and another room stays apart`,
    async run(t, stage) {
      const [url, urlWithPath] = urls(stage, target);
      const a = await open(t, stage, url, 'mesh');
      const b = await open(t, stage, urlWithPath, 'mesh');
      const other = await open(t, stage, url, 'mesh-other');
      await overWebrtc([a, b], 1);
      await converge([a, b], 'two');
      const c = await open(t, stage, urlWithPath, 'mesh');
      await overWebrtc([a, b, c], 2);
      await converge([a, b, c], 'three');
      await other.insert('elsewhere');
      await c.insert('last');
      await Promise.all([a, b].map((page) => page.holds(['last'])));
      assert.equal(await other.value(), 'elsewhere', 'the other room got nothing of this one');
      assert.equal(await other.connectedPeers(), 0);
      for (const page of [a, b, c]) assert.doesNotMatch(await page.value(), /elsewhere/);
    },
  };
}

function password(target: Target): Scenario {
  return {
    name: `${target}: with a password, documents converge and the server sees only ciphertext`,
    async run(t, stage) {
      const [url, urlWithPath] = urls(stage, target);
      const secret = 'correct horse battery staple';
      const a = await open(t, stage, url, 'locked', secret);
      const b = await open(t, stage, urlWithPath, 'locked', secret);
      await overWebrtc([a, b], 1);
      await converge([a, b], 'secret');
      const publications = (await a.sent())
        .map((frame) => JSON.parse(frame) as { type?: string; data?: unknown })
        .filter((frame) => frame.type === 'publish');
      assert.ok(publications.length >= 2, 'announce and signals were published');
      for (const frame of publications) {
        assert.equal(typeof frame.data, 'string', 'encrypted data is a base64 string');
        // Plain y-webrtc publishes an object; ciphertext is base64 of a 12-byte IV plus AES-GCM output.
        // (Matching words like "sdp" against the base64 text would fail by chance now and then.)
        assert.match(String(frame.data), /^[A-Za-z0-9+/]+={0,2}$/, 'data is base64, not readable JSON');
        assert.ok(Buffer.from(String(frame.data), 'base64').length > 12 + 16, 'IV, ciphertext and tag');
      }
    },
  };
}

function twoProcesses(target: Target): Scenario {
  return {
    name:
      target === 'sigver'
        ? 'sigver: two pages signal through two Sigver processes over Redis'
        : 'native: the same two pages through its one process',
    async run(t, stage) {
      let first = stage.native;
      let second = stage.native;
      if (target === 'sigver') {
        const redis = await RedisServer.start(t);
        const args = ['--redis', redis.url, '--auth-secret', AUTH_SECRET, '--allow-origin', stage.origin];
        const [p1, p2] = await Promise.all([spawnSigver(t, args), spawnSigver(t, args)]);
        const token = mintAccessToken(AUTH_SECRET, { expiresAt: Math.floor(Date.now() / 1000) + 3600 });
        first = `${p1.url}?token=${token}`;
        second = `${p2.url}/doc?token=${token}`;
      }
      const a = await open(t, stage, first, 'cluster');
      const b = await open(t, stage, second, 'cluster');
      await overWebrtc([a, b], 1);
      await converge([a, b], 'cluster');
    },
  };
}

const SCENARIOS: readonly Scenario[] = (['sigver', 'native'] as const).flatMap((target) => [
  mesh(target),
  password(target),
  twoProcesses(target),
]);

if (insidePrivateNetwork()) {
  describe('y-webrtc in Chromium', () => {
    let stage: Stage | undefined;
    const stops: Array<() => unknown> = [];
    const cleanup: Cleanup = { after: (stop) => stops.push(stop) };
    before(async () => {
      const [bundle, browser] = await Promise.all([
        buildYjsBundle(),
        chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] }),
      ]);
      cleanup.after(() => browser.close());
      const { origin } = await startYjsPageServer(cleanup, bundle);
      const sigver = createSigverServer({
        port: 0,
        host: '127.0.0.1',
        authSecret: AUTH_SECRET,
        allowOrigin: [origin],
        shutdownGraceMs: 1_000,
      });
      const { url } = await sigver.listen();
      cleanup.after(() => sigver.close());
      const token = mintAccessToken(AUTH_SECRET, { expiresAt: Math.floor(Date.now() / 1000) + 3600 });
      const { url: native } = await startNativeServer(cleanup);
      stage = { browser, origin, sigver: [`${url}?token=${token}`, `${url}/some/path?token=${token}`], native };
    });
    after(async () => {
      for (const stop of stops.reverse()) await stop();
    });
    for (const scenario of SCENARIOS) {
      it(scenario.name, (t) => scenario.run(t, stage!));
    }
  });
} else {
  // One namespace for every scenario: the browser, the bundle and the servers start once.
  describe('y-webrtc in Chromium (in a private network namespace)', () => {
    it(`${SCENARIOS.length} scenarios, against Sigver and against y-webrtc's own server`, async () => {
      const file = fileURLToPath(import.meta.url);
      const { status, output } = await runInPrivateNetwork(file, '.*', SCENARIOS.length * 2 * WAIT_MS);
      assert.equal(status, 0, output);
      assert.match(output, new RegExp(`pass ${SCENARIOS.length}\\b`), `every scenario ran:\n${output}`);
    });
  });
}
