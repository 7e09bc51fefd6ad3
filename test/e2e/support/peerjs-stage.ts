// What the PeerJS tests run against besides Sigver: PeerJS's own server,
// `peer` 1.0.2, unmodified, as a child process on a free port.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, type Cleanup } from '../../cluster/redis-server.js';
import { withTimeout } from '../../helpers/client.js';

const PEER_BIN = fileURLToPath(new URL('../../../node_modules/peer/dist/bin/peerjs.js', import.meta.url));

/** A running `peer` server: `http://` and `ws://` bases without a trailing slash. */
export interface NativePeerServer {
  readonly port: number;
  readonly http: string;
  readonly ws: string;
}

/** Starts `peer` (its `peerjs` command) for `t`; killed after. Options are its own flags. */
export async function startNativePeer(
  t: Cleanup,
  options: { readonly expireMs?: number; readonly discovery?: boolean } = {},
): Promise<NativePeerServer> {
  const port = await freePort();
  const args = [PEER_BIN, '--port', String(port), '--host', '127.0.0.1'];
  if (options.expireMs !== undefined) args.push('--expire_timeout', String(options.expireMs));
  if (options.discovery === true) args.push('--allow_discovery');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.includes('Started PeerServer')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`peer exited with ${String(code)}`)));
    }),
    'the native peer server to start',
    15_000,
  );
  return { port, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
}
