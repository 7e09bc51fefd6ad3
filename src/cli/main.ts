#!/usr/bin/env node
// The `sigver` command: reads flags and environment, starts the server,
// prints where it listens, and shuts down cleanly on SIGTERM or SIGINT.

import { readFileSync } from 'node:fs';
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

  let server;
  try {
    server = createSigverServer(command.settings);
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
    server.close().then(
      () => process.exit(0),
      (error: unknown) => fail(`shutdown failed: ${(error as Error).message}`),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => fail((error as Error).message));
