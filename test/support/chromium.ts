// How the tests launch Debian's Chromium (installed by scripts/install-test-deps.sh),
// inside a private network namespace (private-network.ts).

import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; `CHROMIUM_PATH` overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags for a headless Chromium on a machine with no network but loopback:
 * no background traffic (it would be refused, many times over), no sandbox
 * (tests run as root).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Host candidates with their addresses, not mDNS names (resolving those would multicast).
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // getUserMedia answers with Chromium's synthetic camera and microphone, without asking.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

/** Launches headless Chromium with {@link CHROMIUM_ARGS}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}
