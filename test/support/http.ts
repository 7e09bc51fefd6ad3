// Plain HTTP(S) requests for tests, with a CA for self-signed servers.

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { withTimeout } from './waits.js';

/** A response as a test sees it. */
export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Sends a request to an http(s) or ws(s) URL (ws is read as http) and reads the whole answer. */
export function fetchText(
  url: string,
  options: { method?: string; headers?: Record<string, string>; ca?: string | Buffer } = {},
): Promise<Response> {
  const target = new URL(url.replace(/^ws/, 'http'));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return withTimeout(
    new Promise<Response>((resolve, reject) => {
      const req = request(
        target,
        {
          method: options.method ?? 'GET',
          headers: options.headers ?? {},
          ...(options.ca === undefined ? {} : { ca: options.ca }),
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    }),
    `${options.method ?? 'GET'} ${url}`,
  );
}

/**
 * The value of one sample in Prometheus text: `name` with exactly these
 * labels (in any order). Undefined when absent.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter((s) => s !== '')
      .sort()
      .join(',');
    if (have === wanted) return Number(match[3]);
  }
  return undefined;
}
