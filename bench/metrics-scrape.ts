// The /metrics scrape-cost workload of `npm run bench`: Sigver at its
// default settings (where /metrics is on, and open to anyone), its server
// CPU per `GET /metrics` with no connection open, then with 10,000
// connections open (hosts with a key and joiners attached to them). The
// cost must not grow with the connections: <= 5 ms per scrape at 10,000
// (issue #11, row 8).
//
// Runs on its own too: `node --import tsx bench/metrics-scrape.ts [connections]`
// (after `npm run build`).
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { killAllChildren, ServerProcess } from './server-process.js';

/** Options of the workload. */
export interface MetricsScrapeOptions {
  /** Connections open for the second measurement: half hosts, half joiners. */
  readonly connections: number;
  /** Scrapes measured at each size. */
  readonly scrapes: number;
  /** Connections opening at once. */
  readonly openBatch: number;
}

export const DEFAULT_METRICS_SCRAPE_OPTIONS: MetricsScrapeOptions = {
  connections: 10_000,
  scrapes: 100,
  openBatch: 500,
};

/** Target: server CPU per scrape at 10,000 connections, ms. */
export const METRICS_SCRAPE_TARGET_MS = 5;

/** What the workload measured. */
export interface MetricsScrapeResult {
  readonly connections: number;
  /** Server CPU per scrape with no connection open, ms. */
  readonly idleMs: number;
  /** Server CPU per scrape with `connections` open, ms. */
  readonly loadedMs: number;
  /** Size of one scrape's text, bytes. */
  readonly bytes: number;
  readonly failures: Map<string, number>;
}

/**
 * Starts Sigver from `root`/dist, measures, stops it. `sigverArgs` are
 * added to its command line (`--sigver-args`).
 */
export async function runMetricsScrape(
  root: string,
  options: MetricsScrapeOptions = DEFAULT_METRICS_SCRAPE_OPTIONS,
  progress: (text: string) => void = () => {},
  sigverArgs: readonly string[] = [],
): Promise<MetricsScrapeResult> {
  const failures = new Map<string, number>();
  const fail = (reason: string): void => void failures.set(reason, (failures.get(reason) ?? 0) + 1);
  progress('metrics: starting sigver');
  const server = await ServerProcess.start({
    label: 'sigver',
    command: process.execPath,
    args: [join(root, 'dist/cli/main.js'), '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', ...sigverArgs],
    cwd: root,
    readyTimeoutMs: 15_000,
  });
  const httpUrl = `${server.url.replace(/^ws/, 'http')}/metrics`;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets: WebSocket[] = [];
  try {
    const measure = async (): Promise<{ ms: number; bytes: number }> => {
      // One scrape first: prom-client's first collection sets up what later ones reuse.
      let bytes = (await scrape(httpUrl, agent)).length;
      const before = server.cpuNs();
      for (let i = 0; i < options.scrapes; i += 1) bytes = (await scrape(httpUrl, agent)).length;
      return { ms: (server.cpuNs() - before) / 1e6 / options.scrapes, bytes };
    };
    progress('metrics: scraping with no connection');
    const idle = await measure();
    const pairs = Math.floor(options.connections / 2);
    for (let first = 0; first < pairs; first += options.openBatch) {
      progress(`metrics: opening connections ${2 * first}/${2 * pairs}`);
      const batch = Array.from({ length: Math.min(options.openBatch, pairs - first) }, (_, i) => first + i);
      await Promise.all(
        batch.map(async (n) => {
          try {
            sockets.push(await request(server.url, { key: `scrape-${n}` }, 'registered'));
            sockets.push(await request(server.url, { joinkey: `scrape-${n}` }, 'reachable'));
          } catch (error) {
            fail(`metrics: ${(error as Error).message}`);
          }
        }),
      );
    }
    progress(`metrics: scraping with ${sockets.length} connections`);
    const loaded = await measure();
    const body = await scrape(httpUrl, agent);
    const counted = /^sigver_connections\{dialect="v1",role="(?:host|joiner)"\} (\d+)$/gm;
    let total = 0;
    for (const match of body.matchAll(counted)) total += Number(match[1]);
    if (total !== sockets.length) fail(`metrics: sigver_connections counts ${total} of ${sockets.length} connections`);
    return { connections: sockets.length, idleMs: idle.ms, loadedMs: loaded.ms, bytes: loaded.bytes, failures };
  } finally {
    for (const socket of sockets) socket.terminate();
    agent.destroy();
    await server.stop();
  }
}

/** The workload's section of the text report. */
export function renderMetricsScrape(result: MetricsScrapeResult): string {
  const met = result.loadedMs <= METRICS_SCRAPE_TARGET_MS ? 'met' : 'MISSED';
  return [
    'GET /metrics, Sigver server CPU per scrape (default settings)',
    `  no connection open:             ${result.idleMs.toFixed(2)} ms`,
    `  ${String(result.connections).padStart(6)} connections open:      ${result.loadedMs.toFixed(2)} ms` +
      `   target <= ${METRICS_SCRAPE_TARGET_MS} ms ${met}`,
    `  scrape size: ${(result.bytes / 1024).toFixed(1)} KiB`,
    '',
  ].join('\n');
}

function scrape(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        response.statusCode === 200
          ? resolve(Buffer.concat(chunks).toString('utf8'))
          : reject(new Error(`GET /metrics answered ${response.statusCode}`)),
      );
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** Opens a v1 connection, sends `message`, resolves once the answer has `field`. */
function request(url: string, message: unknown, field: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'sigver.v1');
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no ${field} answer within 10 s`));
    }, 10_000);
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on('open', () => ws.send(JSON.stringify(message)));
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      const reply = JSON.parse(data.toString()) as Record<string, unknown>;
      if (field in reply) resolve(ws);
      else {
        ws.terminate();
        reject(new Error(`answered ${data.toString()}`));
      }
    });
  });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const connections = Number(process.argv[2] ?? DEFAULT_METRICS_SCRAPE_OPTIONS.connections);
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.on('exit', killAllChildren);
  runMetricsScrape(root, { ...DEFAULT_METRICS_SCRAPE_OPTIONS, connections }, (text) =>
    process.stderr.write(`${text}\n`),
  ).then(
    (result) => {
      process.stdout.write(renderMetricsScrape(result));
      for (const [reason, count] of result.failures) process.stdout.write(`  FAILED ${count} x ${reason}\n`);
      process.exitCode = result.failures.size > 0 ? 1 : 0;
    },
    (error: unknown) => {
      process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
