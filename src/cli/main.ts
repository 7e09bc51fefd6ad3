#!/usr/bin/env node
// The `sigver` command: reads flags and environment, starts the server,
// prints where it listens, and shuts down cleanly on SIGTERM or SIGINT.

import { readFileSync } from 'node:fs';
import type { RedisBackplane } from '../cluster/redis-backplane.js';
import { createSigverServer } from '../server.js';
import { SettingError } from '../options.js';
import { helpText, parseCommandLine } from './arguments.js';

function version(): string {
  const packageJson = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

function fail(message: string): never {
  process.stderr.write(`sigver: ${message}\n`);
  process.exit(1);
}

/** With --redis: the Redis backplane, connected. The Redis client is loaded only then. */
async function connectRedis(url: string): Promise<RedisBackplane> {
  const { RedisBackplane } = await import('../cluster/redis-backplane.js');
  const log = (line: string): void => void process.stderr.write(`sigver: ${line}\n`);
  return RedisBackplane.connect({
    url,
    events: {
      disconnected: (reason) => log(`lost the connection to Redis (${reason}); new keys are refused until it is back`),
      reconnected: () => log('connected to Redis again'),
      restarted: () => log('Redis came back empty: claiming the keys of this process again'),
      processLost: (id) => log(`process ${id} left or stopped answering: the partners of its peers here were told`),
      keyLost: () => log('another process took a key whose claim had lapsed: its room here ended'),
      error: (error) => log(`Redis: ${error.message}`),
    },
  });
}

async function main(): Promise<void> {
  let command;
  try {
    command = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof SettingError) fail(error.message);
    throw error;
  }
  if (command.kind === 'help') return void process.stdout.write(helpText());
  if (command.kind === 'version') return void process.stdout.write(`${version()}\n`);

  let backplane: RedisBackplane | undefined;
  if (command.settings.redis !== undefined) {
    try {
      backplane = await connectRedis(command.settings.redis);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  let server;
  try {
    server = createSigverServer({ ...command.settings, ...(backplane === undefined ? {} : { backplane }) });
  } catch (error) {
    if (error instanceof SettingError) fail(error.message);
    throw error;
  }
  const { settings } = server;
  try {
    const { url } = await server.listen();
    process.stdout.write(`sigver listening on ${url}\n`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${settings.port} is already in use on ${settings.host}`);
    if (code === 'EACCES') fail(`no permission to listen on port ${settings.port}`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') fail(`cannot listen on host ${settings.host}`);
    fail((error as Error).message);
  }

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server
      .close()
      .then(() => backplane?.close())
      .then(
        () => process.exit(0),
        (error: unknown) => fail(`shutdown failed: ${(error as Error).message}`),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => fail((error as Error).message));
