// The README's browser pages run as written, in headless Chromium: saved
// to a folder that python3's http.server serves (not Sigver, not a test
// helper), loading the SDK from the Sigver server at localhost:8000. Also a
// call that adds tracks later, through the SDK's renegotiation.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createSigverServer } from '../../src/server.js';
import { ensureBundle } from '../support/bundle.js';
import { launchChromium } from '../support/chromium.js';
import { testsInPrivateNetwork } from '../support/private-network.js';
import { docExample } from '../support/doc-examples.js';
import { withTimeout } from '../support/waits.js';

/** The address the README's pages use for Sigver. */
const DOCUMENTED_PORT = 8000;
/** Longest wait for one thing to appear on a page. */
const WAIT_MS = 20_000;
/** Screenshots go here, outside git (.gitignore lists .artifacts/). */
const ARTIFACTS = fileURLToPath(new URL('../../.artifacts/docs-pages/', import.meta.url));

interface Sigver {
  readonly browser: Browser;
  /** Emits each key the Sigver server registers, as the event name. */
  readonly keys: EventEmitter;
  close(): Promise<void>;
}

let shared: Promise<Sigver> | undefined;

/**
 * One browser for the file, in the file's private network (see
 * test/support/private-network.ts), and one Sigver server at the documented
 * localhost:8000 (the namespace's ports are its own). Tests use distinct keys.
 */
function sigverAndBrowser(): Promise<Sigver> {
  shared ??= (async () => {
    ensureBundle();
    const keys = new EventEmitter();
    const sigver = createSigverServer({
      port: DOCUMENTED_PORT,
      host: '127.0.0.1',
      shutdownGraceMs: 2_000,
      observer: { keyRegistered: (key) => keys.emit(key) },
    });
    await sigver.listen();
    const browser = await launchChromium().catch(async (error: unknown) => {
      await sigver.close();
      throw error;
    });
    return {
      browser,
      keys,
      async close() {
        await browser.close();
        await sigver.close();
      },
    };
  })();
  return shared;
}

interface Stage {
  /** `http://localhost:PORT/`: the static server of the pages. */
  readonly pages: string;
  /** Emits each key the Sigver server registers, as the event name. */
  readonly keys: EventEmitter;
  readonly context: BrowserContext;
}

/** python3's http.server serving `files` from a temporary folder, and a browser context. */
async function stage(t: TestContext, files: Readonly<Record<string, string>>): Promise<Stage> {
  const { browser, keys } = await sigverAndBrowser();
  const dir = await mkdtemp(join(tmpdir(), 'sigver-pages-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const pagePort = await startStaticServer(t, dir);
  const context = await browser.newContext();
  t.after(() => context.close());
  return { pages: `http://localhost:${pagePort}/`, keys, context };
}

/** `python3 -m http.server` on a free port of 127.0.0.1, stopped after the test; resolves with its port. */
async function startStaticServer(t: TestContext, dir: string): Promise<number> {
  const child = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill();
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  const failed = once(child, 'error').then(([error]) => Promise.reject(error as Error));
  const ready = (async () => {
    for await (const line of lines) {
      const port = /port (\d+)/.exec(line)?.[1];
      if (port !== undefined) return Number(port);
    }
    throw new Error('python3 -m http.server exited before listening');
  })();
  return withTimeout(Promise.race([ready, failed]), 'python3 -m http.server to listen', WAIT_MS);
}

/** A page that fails the test on any uncaught error or failed request of the page. */
async function openPage(t: TestContext, { context }: Stage, url: string): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`${url}: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.url()}: HTTP ${response.status()}`);
  });
  t.after(() => assert.deepEqual(problems, [], 'no error in the page'));
  await page.goto(url);
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

testsInPrivateNetwork(import.meta.url, 'the pages of the docs in Chromium', 240_000, () => {
  after(async () => {
    if (shared !== undefined) await (await shared).close();
  });

  test('the browser quick start of the README connects a host page and a joiner page, as written', async (t) => {
    const setup = await stage(t, { 'page.html': docExample('browser-quickstart') });
    const registered = withTimeout(once(setup.keys, 'quick-start-room'), 'the host page to register its key', WAIT_MS);
    const host = await openPage(t, setup, `${setup.pages}page.html#host`);
    await registered;
    const joiner = await openPage(t, setup, `${setup.pages}page.html#joiner`);
    await host.locator('#log', { hasText: 'received: hello from the joiner' }).waitFor();
    await joiner.locator('#log', { hasText: 'received: hello from the host' }).waitFor();
  });

  test('the video call of the README plays each camera on the other page, as written', async (t) => {
    const setup = await stage(t, { 'video.html': docExample('video-call') });
    const registered = withTimeout(once(setup.keys, 'video-room'), 'the host page to register its key', WAIT_MS);
    const host = await openPage(t, setup, `${setup.pages}video.html#host`);
    await host.getByRole('button', { name: 'Start the call' }).click();
    await registered;
    const joiner = await openPage(t, setup, `${setup.pages}video.html#joiner`);
    await joiner.getByRole('button', { name: 'Start the call' }).click();
    for (const page of [host, joiner]) {
      await page.locator('#log', { hasText: 'remote video playing' }).waitFor();
      const tracks = await page.evaluate(() =>
        (document.querySelector<HTMLVideoElement>('#remote')!.srcObject as MediaStream)
          .getTracks()
          .map((track) => track.kind)
          .sort(),
      );
      assert.deepEqual(tracks, ['audio', 'video'], 'the other side sent its camera and microphone');
    }
    await screenshot(host, 'video-call-host.png');
    await screenshot(joiner, 'video-call-joiner.png');
  });

  /**
   * Installed in a blank page: a call with no media, kept signaling, and a
   * function that adds a track from the fake camera or microphone and renegotiates.
   */
  const RENEGOTIATION_HARNESS = `
<!doctype html>
<title>renegotiation</title>
<script type="module">
  import { connectPeer } from 'http://localhost:8000/sigver-client.js';
  const received = [];
  window.received = received;
  window.call = async (role) => {
    window.session = await connectPeer({
      url: 'ws://localhost:8000/',
      key: 'renegotiation-room',
      role,
      keepSignaling: true,
      onPeerConnection(pc) {
        pc.addEventListener('track', (event) => received.push(event.track.kind));
      },
    });
  };
  window.addTrack = async (kind) => {
    const media = await navigator.mediaDevices.getUserMedia({ [kind]: true });
    for (const track of media.getTracks()) window.session.pc.addTrack(track, media);
    await window.session.renegotiate();
  };
  window.ready = true;
</script>
`;

  test('a connectPeer session adds tracks later with renegotiate, from either side', async (t) => {
    const setup = await stage(t, { 'blank.html': RENEGOTIATION_HARNESS });
    const host = await openPage(t, setup, `${setup.pages}blank.html`);
    const joiner = await openPage(t, setup, `${setup.pages}blank.html`);
    for (const page of [host, joiner]) await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
    const registered = withTimeout(once(setup.keys, 'renegotiation-room'), 'the host to register', WAIT_MS);
    const hosting = host.evaluate(`window.call('host')`);
    await registered;
    await withTimeout(Promise.all([hosting, joiner.evaluate(`window.call('joiner')`)]), 'the call', WAIT_MS);

    const received = (page: Page): Promise<string[]> => page.evaluate('window.received') as Promise<string[]>;
    assert.deepEqual(await received(host), [], 'no media before renegotiation');

    await withTimeout(joiner.evaluate(`window.addTrack('video')`), 'the joiner to renegotiate', WAIT_MS);
    await host.waitForFunction(() => (window as { received?: string[] }).received?.includes('video') === true);
    await withTimeout(host.evaluate(`window.addTrack('audio')`), 'the host to renegotiate', WAIT_MS);
    await joiner.waitForFunction(() => (window as { received?: string[] }).received?.includes('audio') === true);
    assert.deepEqual(await received(host), ['video']);
    assert.deepEqual(await received(joiner), ['audio']);
    for (const page of [host, joiner]) await page.evaluate('window.session.close()');
  });
});
