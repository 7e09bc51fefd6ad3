// Runs the `sigver` command as a child process for one test: waits for its
// output line by line (no sleeps) and kills it, if still running, when the
// test ends.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { WAIT_MS, withTimeout } from './client.js';

/** The repository root, where the command runs. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `sigver` command. */
export class CliProcess {
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  /** Resolves once the process has exited and its output is read. */
  readonly exited: Promise<Exit>;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    lines(child.stdout!, (line) => this.push(this.stdoutLines, line));
    lines(child.stderr!, (line) => this.push(this.stderrLines, line));
    this.exited = once(child, 'close').then(([code, signal]) => {
      this.wake();
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
  }

  /** Waits for the first stdout line matching `match` (already printed or to come). */
  stdout(match: RegExp, ms = WAIT_MS): Promise<string> {
    return this.waitFor(this.stdoutLines, match, 'stdout', ms);
  }

  /** Waits for the first stderr line matching `match`. */
  stderr(match: RegExp, ms = WAIT_MS): Promise<string> {
    return this.waitFor(this.stderrLines, match, 'stderr', ms);
  }

  /** Waits for the `sigver listening on` line and returns the URL. */
  async listening(): Promise<string> {
    const line = await this.stdout(/^sigver listening on /);
    return line.slice('sigver listening on '.length);
  }

  /** Waits for the process to end. */
  exit(ms = WAIT_MS): Promise<Exit> {
    return withTimeout(this.exited, 'the process to exit', ms);
  }

  private push(list: string[], line: string): void {
    list.push(line);
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private waitFor(list: string[], match: RegExp, what: string, ms: number): Promise<string> {
    let done = false;
    return withTimeout(
      new Promise<string>((resolve, reject) => {
        const look = (): void => {
          if (done) return;
          const line = list.find((l) => match.test(l));
          if (line !== undefined) {
            done = true;
            return resolve(line);
          }
          if (this.child.exitCode !== null || this.child.signalCode !== null) {
            done = true;
            return reject(new Error(`exited without ${what} line ${match}; stderr: ${this.stderrLines.join(' | ')}`));
          }
          this.waiters.push(look);
        };
        look();
      }),
      `${what} line ${match}`,
      ms,
    ).finally(() => {
      done = true;
    });
  }
}

/**
 * Starts `sigver ARGS` (through tsx, from the sources). The environment is
 * the test's, without SIGVER_* variables, plus `env`.
 */
export function runCli(t: TestContext, args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGVER_')));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const cli = new CliProcess(child);
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cli.exited;
  });
  return cli;
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffer !== '') onLine(buffer);
  });
}
