// Sigver's plain HTTP routes on the WebSocket port: a small exact-path table.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers one request. */
export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A Node request handler that hands requests it does not answer to `next`. */
export type RequestMiddleware = (request: IncomingMessage, response: ServerResponse, next?: () => void) => void;

interface Route {
  readonly get: Handler;
  /** Answers CORS preflight (OPTIONS) requests, when the route has cross-origin callers. */
  readonly preflight: Handler | undefined;
}

/** GET routes by exact path. */
export class HttpRoutes {
  private readonly routes = new Map<string, Route>();
  /** Handlers of path patterns, tried in order when no exact route matches; true when they answered. */
  private readonly patterns: Array<(request: IncomingMessage, response: ServerResponse) => boolean> = [];

  /** Adds a handler for paths that no exact route has (the PeerJS routes, `{path}{key}/id`). */
  pattern(handler: (request: IncomingMessage, response: ServerResponse) => boolean): void {
    this.patterns.push(handler);
  }

  /** Serves `body()` as JSON at `path`. */
  json(path: string, body: () => unknown): void {
    this.get(path, (_request, response) => {
      const text = JSON.stringify(body());
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(text);
    });
  }

  /** Serves `handler` at `path` for GET and HEAD, and `preflight` for OPTIONS. */
  get(path: string, handler: Handler, preflight?: Handler): void {
    this.routes.set(path, { get: handler, preflight });
  }

  /** Answers the request if its path is a route; false otherwise. */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const route = this.routes.get(query < 0 ? url : url.slice(0, query));
    if (route === undefined) return this.patterns.some((handler) => handler(request, response));
    if (request.method === 'OPTIONS' && route.preflight !== undefined) {
      route.preflight(request, response);
      return true;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, {
        allow: route.preflight === undefined ? 'GET, HEAD' : 'GET, HEAD, OPTIONS',
        'content-type': 'text/plain',
      });
      response.end('Method not allowed\n');
      return true;
    }
    route.get(request, response);
    return true;
  }

  /**
   * A Node request handler in the `(request, response, next)` style of
   * Express and Connect: answers the request if its path is a route, else
   * calls `next()`, or answers 404 when there is no `next`.
   */
  middleware(): RequestMiddleware {
    return (request, response, next) => {
      if (this.handle(request, response)) return;
      if (next === undefined) this.notFound(response);
      else next();
    };
  }

  /** Answers 404. */
  notFound(response: ServerResponse): void {
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('Not found\n');
  }
}
