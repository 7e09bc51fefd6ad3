// The SDK's browser bundle that a real server serves (dist/public/sigver-client.js), kept current.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist/public/sigver-client.js');

/** Builds the SDK's browser bundle when it is missing or older than the SDK's sources. */
export function ensureBundle(): void {
  const newestSource = Math.max(...['src/client', 'src/protocol'].flatMap((dir) => mtimes(join(ROOT, dir))));
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= newestSource) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-client-bundle.mjs')], { stdio: 'ignore' });
}

function mtimes(dir: string): number[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? mtimes(join(dir, entry.name)) : [statSync(join(dir, entry.name)).mtimeMs],
  );
}
