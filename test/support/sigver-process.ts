// Sigver as a real child process, for tests that need a process to die or
// exit: `sigver --port 0 --host 127.0.0.1 --log-level warn ...`, run by the one
// child-process runner (cli.ts), awaited through its "sigver listening on"
// line, and killed when the test ends.

import type { ChildProcess } from 'node:child_process';
import { runCli, type Cleanup, type Exit } from './cli.js';

export type { Exit };

/** A running Sigver process. */
export interface SigverProcess {
  readonly child: ChildProcess;
  /** `ws://127.0.0.1:PORT` */
  readonly url: string;
  /** Lines it printed on stderr so far. */
  readonly stderr: readonly string[];
  readonly exited: Promise<Exit>;
  /** Kills it with SIGKILL and resolves when it is gone. */
  kill(): Promise<Exit>;
}

/** Starts `sigver --port 0 --host 127.0.0.1 ...args` and waits for it to listen. */
export async function spawnSigver(
  t: Cleanup,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<SigverProcess> {
  // Warnings and errors only: the cluster tests read stderr for what went wrong.
  const cli = runCli(t, ['--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', ...args], env);
  const url = await cli.listening(20_000);
  const kill = async (): Promise<Exit> => {
    cli.killTree();
    return cli.exited;
  };
  return { child: cli.child, url, stderr: cli.stderrLines, exited: cli.exited, kill };
}

/** Runs `sigver ...args` to its end and returns what it printed. */
export async function runSigver(
  args: readonly string[],
  ms = 20_000,
): Promise<Exit & { stdout: string[]; stderr: string[] }> {
  const cleanups: (() => unknown)[] = [];
  const cli = runCli({ after: (fn) => cleanups.push(fn) }, args);
  try {
    const exit = await cli.exit(ms);
    return { ...exit, stdout: cli.stdoutLines, stderr: cli.stderrLines };
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}
