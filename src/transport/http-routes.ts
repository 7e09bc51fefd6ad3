// Sigver's plain HTTP routes on the WebSocket port: a small exact-path table.

import type { IncomingMessage, ServerResponse } from 'node:http';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** GET routes by exact path. */
export class HttpRoutes {
  private readonly routes = new Map<string, Handler>();

  /** Serves `body()` as JSON at `path`. */
  json(path: string, body: () => unknown): void {
    this.get(path, (_request, response) => {
      const text = JSON.stringify(body());
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(text);
    });
  }

  /** Serves `handler` at `path` for GET and HEAD. */
  get(path: string, handler: Handler): void {
    this.routes.set(path, handler);
  }

  /** Answers the request if its path is a route; false otherwise. */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const handler = this.routes.get(query < 0 ? url : url.slice(0, query));
    if (handler === undefined) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      response.end('Method not allowed\n');
      return true;
    }
    handler(request, response);
    return true;
  }

  /** Answers 404. */
  notFound(response: ServerResponse): void {
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('Not found\n');
  }
}
