// A pino logger for tests whose lines are kept in memory, parsed.

import { Writable } from 'node:stream';
import { createLogger } from '../../src/ops/logger.js';

/** A pino destination that keeps each line, parsed. */
export function memoryLog(level: string): {
  logger: ReturnType<typeof createLogger>;
  lines: Record<string, unknown>[];
  raw: string[];
} {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk
        .toString()
        .split('\n')
        .filter((l) => l !== '')) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level, stream }), lines, raw };
}
