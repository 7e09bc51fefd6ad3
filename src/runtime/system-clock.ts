// The real clock and the real source of secrets, for the core's ports: the
// one home of Node's timers and random bytes for every layer above the core.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock, SecretSource } from '../core/ports.js';

/**
 * Monotonic time and Node timers. A pending timer alone does not keep the
 * process alive (sockets and servers do): a backplane or a core that was
 * never closed does not hold an exiting process.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

const SECRET_BYTES = 16;
const POOL_BYTES = SECRET_BYTES * 256;
let pool = randomBytes(POOL_BYTES);
let used = 0;

/**
 * 128 random bits, base64url: 22 characters. Drawn from a pool refilled 4 KiB
 * at a time: one call to the system's generator per v1 registration would
 * cost more than the rest of the registration.
 */
export const randomSecret: SecretSource = () => {
  if (used === POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  used += SECRET_BYTES;
  return pool.toString('base64url', used - SECRET_BYTES, used);
};
