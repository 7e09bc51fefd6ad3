// The real, unmodified PeerJS client (its browser bundle) in Chromium,
// against Sigver and, scenario by scenario, against PeerJS's own server
// `peer` 1.0.2: server-assigned and chosen ids, `unavailable-id`, a data
// connection with a message both ways, an audio and video call with
// Chromium's fake devices, `peer-unavailable`, a mesh of five peers, and
// two peers on two Sigver processes over Redis. Sigver runs with
// --auth-secret (the access token in PeerJS's `key` option) and
// --allow-origin; a PeerJS app changes only host, port, path and key.
//
// Each test runs in a private network namespace (support/private-network.ts).

import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { mintAccessToken } from '../../src/ops/access-token.js';
import { createSigverServer } from '../../src/server.js';
import { RedisServer, type Cleanup } from '../cluster/redis-server.js';
import { spawnSigver } from '../support/sigver-process.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';
import {
  PeerPage,
  PeerStartError,
  startNativePeer,
  startPeerJsPageServer,
  type PeerJsServerOptions,
} from '../support/peerjs-stage.js';
import { insidePrivateNetwork, runInPrivateNetwork } from '../support/private-network.js';
import { WAIT_MS } from '../support/waits.js';

const AUTH_SECRET = 'peerjs browser test secret, at least 32 bytes';

interface Stage {
  readonly browser: Browser;
  readonly origin: string;
  readonly servers: Readonly<Record<Target, PeerJsServerOptions>>;
}

type Target = 'sigver' | 'native';

interface Scenario {
  readonly name: string;
  run(t: TestContext, stage: Stage): Promise<void>;
}

/** What a PeerJS app passes to `new Peer` for a server at `url` (ws://host:port). */
function optionsFor(url: string, key: string): PeerJsServerOptions {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), path: '/', key, secure: false };
}

function token(): string {
  return mintAccessToken(AUTH_SECRET, { expiresAt: Math.floor(Date.now() / 1000) + 3600 });
}

/** Opens `ids.length` peers of `server` in a browser context of the scenario's own. */
async function peers(
  t: Cleanup,
  stage: Stage,
  server: PeerJsServerOptions,
  ids: ReadonlyArray<string | null>,
): Promise<PeerPage[]> {
  const context = await stage.browser.newContext();
  t.after(() => context.close());
  return Promise.all(ids.map((id) => PeerPage.open(t, context, stage.origin, server, id)));
}

function ids(target: Target): Scenario {
  return {
    name: `${target}: a server-assigned id, a chosen id, and unavailable-id for a taken one`,
    async run(t, stage) {
      const server = stage.servers[target];
      const [assigned, chosen] = await peers(t, stage, server, [null, `chosen-${target}`]);
      assert.match(assigned!.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(chosen!.id, `chosen-${target}`);
      await assert.rejects(peers(t, stage, server, [`chosen-${target}`]), (error: unknown) => {
        assert.ok(error instanceof PeerStartError);
        assert.equal(error.type, 'unavailable-id');
        return true;
      });
    },
  };
}

function data(target: Target): Scenario {
  return {
    name: `${target}: a data connection carries a message both ways`,
    async run(t, stage) {
      const [alice, bob] = await peers(t, stage, stage.servers[target], [`alice-${target}`, `bob-${target}`]);
      assert.equal(await alice!.exchange(bob!.id, 'hello'), 'reply:hello');
      assert.deepEqual(await bob!.received(), [`alice-${target}:hello`]);
    },
  };
}

function call(target: Target): Scenario {
  return {
    name: `${target}: an audio and video call with Chromium's fake camera and microphone`,
    async run(t, stage) {
      const [caller, callee] = await peers(t, stage, stage.servers[target], [`caller-${target}`, `callee-${target}`]);
      assert.deepEqual(await caller!.call(callee!.id), ['audio', 'video']);
      await callee!.run(
        `new Promise((resolve) => { const check = () => pj.remoteTracks.length === 2 ? resolve() : setTimeout(check, 25); check(); })`,
        "the callee's remote stream",
      );
      assert.deepEqual(await callee!.remoteTracks(), ['audio', 'video']);
    },
  };
}

function unavailable(target: Target): Scenario {
  return {
    name: `${target}: connecting to an id nobody holds ends in peer-unavailable`,
    async run(t, stage) {
      const [alice] = await peers(t, stage, stage.servers[target], [`lonely-${target}`]);
      // The offer waits in the id's mailbox for 5 s (both servers' default), then EXPIRE.
      assert.equal(await alice!.exchange(`nobody-${target}`, 'anyone?', 4 * WAIT_MS), 'error:peer-unavailable');
    },
  };
}

function mesh(target: Target): Scenario {
  return {
    name: `${target}: a mesh of five peers, every pair exchanging a message`,
    async run(t, stage) {
      const names = [0, 1, 2, 3, 4].map((i) => `mesh${i}-${target}`);
      const pages = await peers(t, stage, stage.servers[target], names);
      const pairs: Array<Promise<void>> = [];
      for (let i = 0; i < pages.length; i += 1) {
        for (let j = i + 1; j < pages.length; j += 1) {
          pairs.push(
            pages[i]!.exchange(names[j]!, `from ${i}`).then((reply) => assert.equal(reply, `reply:from ${i}`)),
          );
        }
      }
      await Promise.all(pairs);
      for (let j = 0; j < pages.length; j += 1) {
        const heard = (await pages[j]!.received()).sort();
        assert.deepEqual(
          heard,
          names
            .slice(0, j)
            .map((name, i) => `${name}:from ${i}`)
            .sort(),
        );
      }
    },
  };
}

function twoProcesses(target: Target): Scenario {
  return {
    name:
      target === 'sigver'
        ? 'sigver: two peers on two Sigver processes over Redis'
        : 'native: the same two peers on its one process',
    async run(t, stage) {
      let first = stage.servers.native;
      let second = stage.servers.native;
      if (target === 'sigver') {
        const redis = await RedisServer.start(t);
        const args = ['--redis', redis.url, '--auth-secret', AUTH_SECRET, '--allow-origin', stage.origin];
        const [p1, p2] = await Promise.all([spawnSigver(t, args), spawnSigver(t, args)]);
        first = optionsFor(p1.url, token());
        second = optionsFor(p2.url, token());
      }
      const context = await stage.browser.newContext();
      t.after(() => context.close());
      const alice = await PeerPage.open(t, context, stage.origin, first, `east-${target}`);
      const bob = await PeerPage.open(t, context, stage.origin, second, `west-${target}`);
      assert.equal(await alice.exchange(bob.id, 'across'), 'reply:across');
      assert.equal(await bob.exchange(alice.id, 'back'), 'reply:back');
    },
  };
}

const SCENARIOS: readonly Scenario[] = (['sigver', 'native'] as const).flatMap((target) => [
  ids(target),
  data(target),
  call(target),
  unavailable(target),
  mesh(target),
  twoProcesses(target),
]);

if (insidePrivateNetwork()) {
  describe('PeerJS in Chromium', () => {
    let stage: Stage | undefined;
    const stops: Array<() => unknown> = [];
    const cleanup: Cleanup = { after: (stop) => stops.push(stop) };
    before(async () => {
      const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
      cleanup.after(() => browser.close());
      const { origin } = await startPeerJsPageServer(cleanup);
      const sigver = createSigverServer({
        port: 0,
        host: '127.0.0.1',
        authSecret: AUTH_SECRET,
        allowOrigin: [origin],
        shutdownGraceMs: 1_000,
      });
      const { url } = await sigver.listen();
      cleanup.after(() => sigver.close());
      const native = await startNativePeer(cleanup);
      stage = {
        browser,
        origin,
        servers: { sigver: optionsFor(url, token()), native: optionsFor(native.ws, 'peerjs') },
      };
    });
    after(async () => {
      for (const stop of stops.reverse()) await stop();
    });
    for (const scenario of SCENARIOS) {
      it(scenario.name, (t) => scenario.run(t, stage!));
    }
  });
} else {
  // One namespace for every scenario: the browser and the servers start once.
  describe('PeerJS in Chromium (in a private network namespace)', () => {
    it(`${SCENARIOS.length} scenarios, against Sigver and against PeerJS's own server`, async () => {
      const file = fileURLToPath(import.meta.url);
      const { status, output } = await runInPrivateNetwork(file, '.*', SCENARIOS.length * 4 * WAIT_MS);
      assert.equal(status, 0, output);
      assert.match(output, new RegExp(`pass ${SCENARIOS.length}\\b`), `every scenario ran:\n${output}`);
    });
  });
}
