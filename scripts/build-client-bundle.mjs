#!/usr/bin/env node
// Bundles the client SDK (src/client/index.ts) into one browser ES module,
// dist/public/sigver-client.js, which the server serves at GET /sigver-client.js.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the bundle; `outfile` defaults to dist/public/sigver-client.js. */
export async function buildClientBundle({
  outfile = resolve(root, 'dist/public/sigver-client.js'),
  minify = true,
} = {}) {
  await build({
    entryPoints: [resolve(root, 'src/client/index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `--outfile PATH` writes elsewhere (tests build into a temporary folder).
  const at = process.argv.indexOf('--outfile');
  const outfile = await buildClientBundle(
    at > 0 && process.argv[at + 1] ? { outfile: resolve(process.argv[at + 1]) } : {},
  );
  console.log(`built ${outfile}`);
}
