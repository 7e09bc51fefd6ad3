#!/usr/bin/env node
// The `sigver` command: reads the config file, environment and flags,
// starts the server, prints where it listens, logs to stderr, and shuts
// down cleanly on SIGTERM or SIGINT. `sigver token` mints access tokens.

import { readFileSync } from 'node:fs';
import type { RedisBackplane } from '../cluster/redis-backplane.js';
import { createSigverServer } from '../server.js';
import { SettingError } from '../options.js';
import { mintAccessToken } from '../ops/access-token.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { helpText, parseCommandLine, printConfig } from './arguments.js';
import { readyLines } from './ready-lines.js';
import { parseTokenCommand, tokenHelpText } from './token-command.js';

function version(): string {
  const packageJson = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

function fail(message: string): never {
  for (const line of message.split('\n')) process.stderr.write(`sigver: ${line}\n`);
  process.exit(1);
}

/** With --redis: the Redis backplane, connected. The Redis client is loaded only then. */
async function connectRedis(url: string, logger: Logger): Promise<RedisBackplane> {
  const { RedisBackplane } = await import('../cluster/redis-backplane.js');
  return RedisBackplane.connect({
    url,
    events: {
      disconnected: (reason) =>
        logger.warn(
          { event: 'redis-disconnected', reason },
          'lost the connection to Redis; new keys are refused until it is back',
        ),
      reconnected: () => logger.info({ event: 'redis-reconnected' }, 'connected to Redis again'),
      restarted: () =>
        logger.warn({ event: 'redis-restarted' }, 'Redis came back empty: claiming the keys of this process again'),
      processLost: (processId) =>
        logger.warn(
          { event: 'process-lost', process: processId },
          'a process left or stopped answering: the partners of its peers here were told',
        ),
      keyLost: () =>
        logger.warn({ event: 'key-lost' }, 'another process took a key whose claim had lapsed: its room here ended'),
      error: (error) => logger.error({ event: 'redis-error', error: error.message }, 'Redis error'),
    },
  });
}

/** Runs `parse`, turning a SettingError into its lines on stderr and exit code 1. */
function orFail<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof SettingError) fail(error.problems.join('\n'));
    throw error;
  }
}

function token(argv: readonly string[]): void {
  const command = orFail(() => parseTokenCommand(argv, process.env));
  if (command.kind === 'help') return void process.stdout.write(tokenHelpText());
  const expiresAt = Math.floor(Date.now() / 1000) + command.ttlSeconds;
  const claims = command.key === undefined ? { expiresAt } : { expiresAt, key: command.key };
  process.stdout.write(`${mintAccessToken(command.secret, claims)}\n`);
}

async function serve(argv: readonly string[]): Promise<void> {
  const command = orFail(() => parseCommandLine(argv, process.env));
  if (command.kind === 'help') return void process.stdout.write(helpText());
  if (command.kind === 'version') return void process.stdout.write(`${version()}\n`);
  if (command.kind === 'print-config') return void process.stdout.write(printConfig(command.settings));

  const { settings } = command;
  // Logs go to stderr: stdout carries the ready lines alone, the first of which scripts wait for.
  const logger = createLogger({ level: settings.logLevel });
  let backplane: RedisBackplane | undefined;
  if (settings.redis !== '') {
    try {
      backplane = await connectRedis(settings.redis, logger);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  const server = orFail(() =>
    createSigverServer({ ...settings, logger, ...(backplane === undefined ? {} : { backplane }) }),
  );
  // Handlers first: a signal that arrives as soon as the listening line is out must find them.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'stopping', signal }, 'shutting down');
    server
      .close()
      .then(() => backplane?.close())
      .then(
        () => {
          logger.info({ event: 'stopped' }, 'stopped');
          process.exit(0);
        },
        (error: unknown) => fail(`shutdown failed: ${(error as Error).message}`),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (settings.tlsCert !== '') {
    // Certificates get renewed: SIGHUP reads the files again without dropping a connection.
    process.on('SIGHUP', () => {
      try {
        server.reloadTls();
        logger.info({ event: 'tls-reloaded' }, 'TLS certificate reloaded');
      } catch (error) {
        logger.error(
          { event: 'tls-reload-failed', error: (error as Error).message },
          'TLS certificate reload failed; keeping the old one',
        );
      }
    });
  }

  try {
    const { url } = await server.listen();
    process.stdout.write(readyLines(url).join('\n') + '\n');
    logger.info({ event: 'listening', url }, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${settings.port} is already in use on ${settings.host}`);
    if (code === 'EACCES') fail(`no permission to listen on port ${settings.port}`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') fail(`cannot listen on host ${settings.host}`);
    fail((error as Error).message);
  }
}

const argv = process.argv.slice(2);
if (argv[0] === 'token') token(argv.slice(1));
else serve(argv).catch((error: unknown) => fail((error as Error).message));
