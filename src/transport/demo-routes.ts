// The test page at GET /: its three files from demo/ and the SDK's browser
// bundle from dist/public/, each at a fixed path.

import type { HttpRoutes } from './http-routes.js';
import { StaticFile } from './static-file.js';

/**
 * The package's root folder. This module is two levels below it both as
 * source (src/transport/) and built (dist/transport/), so the same relative
 * URL finds demo/ and dist/public/ from a checkout and from an npm install
 * (the package's "files" include both).
 */
const PACKAGE_ROOT = new URL('../../', import.meta.url);

const JAVASCRIPT = 'application/javascript; charset=utf-8';

/**
 * The page may load only its own files and talk only to its own server
 * (fetch and WebSocket); `ws:`/`wss:` are listed because older browsers do
 * not count same-origin WebSockets as `'self'`.
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The SDK is public code: any page may load it from this server as a
 * module script, which browsers fetch in CORS mode (the README's browser
 * quick start does so from a page served anywhere).
 */
const SDK_HEADERS = { 'access-control-allow-origin': '*' };

/** The routes of the test page: URL path, file under the package root, content type. */
export const DEMO_FILES = [
  { path: '/', file: 'demo/index.html', contentType: 'text/html; charset=utf-8' },
  { path: '/demo.js', file: 'demo/demo.js', contentType: JAVASCRIPT },
  { path: '/demo.css', file: 'demo/demo.css', contentType: 'text/css; charset=utf-8' },
  { path: '/sigver-client.js', file: 'dist/public/sigver-client.js', contentType: JAVASCRIPT },
] as const;

/**
 * Adds the test page's routes. Files are read on first request and kept;
 * they are served with `cache-control: no-cache` and an ETag: their names
 * carry no version, so after an upgrade the browser must not mix a cached
 * script with a new page, yet an unchanged file costs only a 304.
 */
export function addDemoRoutes(routes: HttpRoutes, root: URL = PACKAGE_ROOT): void {
  for (const { path, file, contentType } of DEMO_FILES) {
    const page = path === '/';
    const served = new StaticFile(new URL(file, root), {
      contentType,
      headers: page
        ? { 'content-security-policy': PAGE_POLICY, 'referrer-policy': 'no-referrer' }
        : path === '/sigver-client.js'
          ? SDK_HEADERS
          : {},
      missingText: `${file} is missing: run \`npm run build\``,
    });
    routes.get(path, (request, response) => served.serve(request, response));
  }
}
