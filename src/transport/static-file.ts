// One file served over HTTP as it is: read on the first request, then kept
// in memory with its ETag, so that serving it costs no disk access.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Options of {@link StaticFile}. */
export interface StaticFileOptions {
  /** `content-type` header, e.g. `text/css; charset=utf-8`. */
  readonly contentType: string;
  /** `cache-control` header. Default `no-cache` (the browser keeps it but revalidates with the ETag). */
  readonly cacheControl?: string;
  /** Further headers sent with the file (security policies...). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Text of the 404 answered while the file does not exist (say, a build output not built yet). */
  readonly missingText?: string;
}

interface Loaded {
  readonly body: Buffer;
  readonly etag: string;
}

/**
 * A file served at one route. Reading happens once, lazily; a failed read
 * (a file not built yet) is not cached, so the next request tries again.
 *
 * @example
 * const css = new StaticFile(new URL('../demo/demo.css', import.meta.url), { contentType: 'text/css; charset=utf-8' });
 * routes.get('/demo.css', (request, response) => css.serve(request, response));
 */
export class StaticFile {
  readonly #file: URL | string;
  readonly #options: StaticFileOptions;
  #loaded: Promise<Loaded> | undefined;

  constructor(file: URL | string, options: StaticFileOptions) {
    this.#file = file;
    this.#options = options;
  }

  /** Answers a GET or HEAD with the file, or 304 when the client's copy is current. */
  serve(request: IncomingMessage, response: ServerResponse): void {
    this.#load().then(
      (loaded) => this.#send(request, response, loaded),
      (error: unknown) => this.#fail(response, error),
    );
  }

  #load(): Promise<Loaded> {
    this.#loaded ??= readFile(this.#file).then(
      (body) => ({ body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }),
      (error: unknown) => {
        this.#loaded = undefined;
        throw error;
      },
    );
    return this.#loaded;
  }

  #send(request: IncomingMessage, response: ServerResponse, { body, etag }: Loaded): void {
    const headers = {
      ...this.#options.headers,
      'cache-control': this.#options.cacheControl ?? 'no-cache',
      etag,
      'x-content-type-options': 'nosniff',
    };
    if (matchesEtag(request.headers['if-none-match'], etag)) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    // For HEAD, node's ServerResponse keeps the headers and drops the body.
    response.writeHead(200, { ...headers, 'content-type': this.#options.contentType, 'content-length': body.length });
    response.end(body);
  }

  #fail(response: ServerResponse, error: unknown): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const missing = (error as { code?: unknown }).code === 'ENOENT';
    response.writeHead(missing ? 404 : 500, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
    });
    response.end(missing ? `${this.#options.missingText ?? 'Not found'}\n` : 'Could not read the file\n');
  }
}

/** True when an `If-None-Match` header names `etag` (weak or strong) or is `*` (RFC 9110, 13.1.2). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}
